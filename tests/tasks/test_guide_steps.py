"""The 工作指引 printed as numbered steps (gateway.tasks.sheets.guide_steps)."""
from gateway.tasks.sheets import guide_steps


def test_lines_become_steps_without_their_own_numbers():
    assert guide_steps("1. 核对营业执照\n2．查看购销台账\n（三）现场检查") == ["核对营业执照", "查看购销台账", "现场检查"]


def test_one_paragraph_is_split_at_sentences():
    assert guide_steps("一、核对证照。二、查看台账；再检查储存场所。") == ["核对证照。", "查看台账；", "再检查储存场所。"]


def test_no_text_no_steps():
    assert guide_steps("") == []
