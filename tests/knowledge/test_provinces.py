"""The 34 provinces, the PROVINCE setting, and province overlays merged into the national entries."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.settings import Settings
from knowledge.loader import load_provinces, province_slugs
from knowledge.text import slugify


def test_the_34_provinces_after_the_2025_merger() -> None:
    provinces, problems = load_provinces()
    assert not problems
    assert len(provinces) == 34
    cities = [p for p in provinces.values() if p.name.startswith("Thành phố ")]
    assert {p.slug for p in cities} >= {"ha-noi", "ho-chi-minh", "hai-phong", "da-nang", "can-tho", "hue"}
    for p in provinces.values():
        short = p.name.removeprefix("Thành phố ").removeprefix("tỉnh ")
        assert p.slug == slugify(short), p
        assert p.authority == "UBND " + p.name, p
    merged = {old for p in provinces.values() for old in p.merged_from}
    assert {"Bình Dương", "Hà Giang", "Quảng Nam", "Bắc Giang"} <= merged
    assert not merged & {p.name.removeprefix("Thành phố ").removeprefix("tỉnh ") for p in provinces.values()}


def test_the_province_setting_takes_a_slug_of_the_list() -> None:
    assert Settings(province="ha-noi").province == "ha-noi"
    assert Settings().province is None
    assert "bac-ninh" in province_slugs()
    with pytest.raises(ValidationError, match="PROVINCE must be one of the 34 province slugs"):
        Settings(province="bac-giang")  # merged into Bắc Ninh in 2025
