"""Shuangsui Gateway plugin of the Wuzhi County Emergency Management Bureau (武陟县应急管理局)."""
__version__ = "0.1.0"
