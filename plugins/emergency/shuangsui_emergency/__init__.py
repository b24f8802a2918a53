"""Shuangsui Gateway plugin of the Wuzhi County Emergency Management Bureau (武陟县应急管理局)."""
