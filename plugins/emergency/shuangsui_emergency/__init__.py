"""Shuangsui Gateway plugin of the Wuzhi County Emergency Management Bureau (武陟县应急管理局).

Leads the work-safety matter with the appendix's check items 1–5. The hooks live in
``shuangsui_emergency.plugin``, registered through the ``shuangsui_gateway`` entry point
``emergency``.
"""
__version__ = "0.1.0"
