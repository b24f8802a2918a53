"""Shuangsui Gateway plugin of the Wuzhi County Agriculture and Rural Affairs Bureau (武陟县农业农村局)."""
__version__ = "0.1.0"
