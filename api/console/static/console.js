// The console works without JavaScript; this only helps: it refuses an upload that is larger than the server
// accepts before sending it, and asks for a confirmation on buttons marked data-confirm.
document.addEventListener("submit", function (event) {
  var form = event.target;
  var input = form.querySelector("input[type=file][data-max-bytes]");
  if (input && input.files && input.files[0]) {
    var max = parseInt(input.getAttribute("data-max-bytes"), 10);
    if (input.files[0].size > max) {
      event.preventDefault();
      var box = document.getElementById(input.getAttribute("data-error"));
      if (box) {
        box.hidden = false;
        box.textContent = "Tệp lớn hơn " + Math.floor(max / 1024) + " KB, máy chủ không nhận được. " +
          "Vui lòng chia nhỏ tệp, hoặc dùng lệnh tthc-bot cases import.";
      }
      input.setAttribute("aria-invalid", "true");
      input.focus();
      return;
    }
  }
  var button = event.submitter;
  var question = button && button.getAttribute("data-confirm");
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});
