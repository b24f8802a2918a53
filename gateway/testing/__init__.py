"""The test kit installed with the gateway, for department plugin authors (and the core's own tests).

``gateway.testing.pytest_plugin`` is a pytest plugin (entry point ``pytest11``) whose fixtures,
all named ``shuangsui_*``, give a migrated throw-away database, the application, tokens per role
and a drawn task for the author's own matter (docs/writing-a-plugin.md, "Testing a plugin").
The builders here are plain functions over a :class:`gateway.core.Gateway`.
"""
from gateway.testing.world import (
    DrawnTask,
    add_inspectors,
    checklist_values,
    draw_task_for,
    matter_target,
)

__all__ = ["DrawnTask", "add_inspectors", "checklist_values", "draw_task_for", "matter_target"]
