"""Shuangsui Gateway plugin of the Wuzhi County Environmental Protection Bureau (武陟县环境保护局)."""
