"""Shuangsui Gateway plugin of the Wuzhi County Market Supervision Administration (武陟县市场监督管理局)."""
