"""Shuangsui Gateway plugin of the Wuzhi County Agriculture and Rural Affairs Bureau (武陟县农业农村局)."""
