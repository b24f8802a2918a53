"""Shuangsui Gateway plugin of the Wuzhi County Commerce Bureau (武陟县商务局).

Leads the refined-oil market matter (成品油市场监管). The hooks live in
``shuangsui_commerce.plugin``, registered through the ``shuangsui_gateway`` entry point
``commerce``.
"""
__version__ = "0.1.0"
