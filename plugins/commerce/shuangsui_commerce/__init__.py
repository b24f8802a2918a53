"""Shuangsui Gateway plugin of the Wuzhi County Commerce Bureau (武陟县商务局)."""
