"""Shuangsui Gateway plugin of the Wuzhi County Environmental Protection Bureau (武陟县环境保护局).

Brings cooperating check items for environmental monitoring bodies to market supervision's
inspection-and-testing-bodies matter. The hooks live in ``shuangsui_environment.plugin``,
registered through the ``shuangsui_gateway`` entry point ``environment``.
"""
__version__ = "0.1.0"
