"""SMS segment counting: GSM-7 vs UCS-2, extension characters, emoji, and every part boundary."""
from __future__ import annotations

import pytest

from backend.adapters.channels.sms_segments import GSM7_BASIC, GSM7_EXTENSION, SegmentInfo, segment_info

BASIC = "".join(sorted(GSM7_BASIC))
EXTENSION = "^{}\\[~]|€\f"


def test_the_extension_table_is_the_gsm_one():
    assert set(EXTENSION) == GSM7_EXTENSION
    assert not GSM7_EXTENSION & GSM7_BASIC
    assert len(GSM7_BASIC) == 127  # 128 code points less the escape to the extension table


def test_empty_text_is_no_segment():
    assert segment_info("") == SegmentInfo("GSM-7", 0, 0, 0, 160)


def test_the_whole_basic_set_is_one_unit_each():
    info = segment_info(BASIC)
    assert (info.encoding, info.characters, info.units, info.segments) == ("GSM-7", 127, 127, 1)


@pytest.mark.parametrize("char", list(EXTENSION))
def test_each_extension_character_is_two_units(char):
    info = segment_info(char)
    assert (info.encoding, info.characters, info.units) == ("GSM-7", 1, 2)


@pytest.mark.parametrize(
    "length, segments, per_segment",
    [(1, 1, 160), (159, 1, 160), (160, 1, 160), (161, 2, 153), (306, 2, 153), (307, 3, 153), (459, 3, 153),
     (460, 4, 153), (1600, 11, 153)],
)
def test_gsm_boundaries(length, segments, per_segment):
    info = segment_info("a" * length)
    assert (info.encoding, info.units, info.segments, info.per_segment) == ("GSM-7", length, segments, per_segment)


def test_extension_characters_at_the_single_part_limit():
    assert segment_info("€" * 80).segments == 1  # exactly 160 units
    assert segment_info("€" * 80 + "a").segments == 2  # 161
    assert segment_info("a" * 159 + "€").units == 161
    assert segment_info("a" * 159 + "€").segments == 2
    assert segment_info("a" * 158 + "{").segments == 1  # 160


def test_an_escape_pair_is_never_split_across_parts():
    # 152 + 2 does not fit 153: the € moves whole to the second part, wasting one unit of the first.
    assert segment_info("a" * 152 + "€" + "a" * 151) == SegmentInfo("GSM-7", 304, 305, 2, 153)
    # 306 units would fit two parts exactly, but the wasted unit pushes the text into a third.
    assert segment_info("a" * 152 + "€" + "a" * 152) == SegmentInfo("GSM-7", 305, 306, 3, 153)
    assert segment_info("a" * 151 + "€" + "a" * 153) == SegmentInfo("GSM-7", 305, 306, 2, 153)


@pytest.mark.parametrize("char", ["á", "ç", "’", "“", "\t", "`", "\x1b", "Ж", "中"])
def test_any_character_outside_gsm7_makes_the_text_ucs2(char):
    info = segment_info("Hello " + char)
    assert info.encoding == "UCS-2"
    assert info.per_segment == 70


@pytest.mark.parametrize(
    "length, segments, per_segment",
    [(70, 1, 70), (71, 2, 67), (134, 2, 67), (135, 3, 67), (1600, 24, 67)],
)
def test_ucs2_boundaries(length, segments, per_segment):
    info = segment_info("á" * length)
    assert (info.encoding, info.units, info.segments, info.per_segment) == ("UCS-2", length, segments, per_segment)


def test_emoji_are_two_utf16_units():
    assert segment_info("😀") == SegmentInfo("UCS-2", 1, 2, 1, 70)
    assert segment_info("😀" * 35) == SegmentInfo("UCS-2", 35, 70, 1, 70)
    assert segment_info("😀" * 36) == SegmentInfo("UCS-2", 36, 72, 2, 67)
    assert segment_info("a" * 69 + "😀").segments == 2  # one emoji makes all 71 units UCS-2


def test_a_surrogate_pair_is_never_split_across_parts():
    assert segment_info("á" * 66 + "😀" + "á" * 65) == SegmentInfo("UCS-2", 132, 133, 2, 67)
    assert segment_info("á" * 66 + "😀" + "á" * 66) == SegmentInfo("UCS-2", 133, 134, 3, 67)


def test_gsm_extension_characters_in_a_ucs2_text_are_one_unit():
    assert segment_info("€ á").units == 3
    assert segment_info("{}[]" + "á").units == 5
