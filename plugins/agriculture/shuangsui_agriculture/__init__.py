"""Shuangsui Gateway plugin of the Wuzhi County Agriculture and Rural Affairs Bureau (武陟县农业农村局).

Leads the crop-seed quality matter (种子生产企业专项检查). The hooks live in
``shuangsui_agriculture.plugin``, registered through the ``shuangsui_gateway`` entry point
``agriculture``.
"""
__version__ = "0.1.0"
