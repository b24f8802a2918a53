"""Shuangsui Gateway plugin of the Wuzhi County Market Supervision Administration (武陟县市场监督管理局).

Leads the inspection-and-testing-bodies matter and brings cooperating check items to the
refined-oil, crop-seed and work-safety matters. The hooks live in ``shuangsui_market.plugin``,
registered through the ``shuangsui_gateway`` entry point ``market``.
"""
__version__ = "0.1.0"
