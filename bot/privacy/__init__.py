"""Personal data: keyed hashes, masking, erasure, retention, logs.

Importing the package installs the ORM listeners of `masking` that store the masked copies of feedback texts and
survey comments (`feedback.text_masked`, `surveyresponse.comment_masked`) whenever they are written.
"""

from bot.privacy import masking as masking  # installs the listeners (see bot/privacy/masking.py)
