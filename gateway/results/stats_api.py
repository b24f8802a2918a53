"""Supervision statistics and the exports (article 30): JSON, or CSV and Excel with Chinese headers."""
from __future__ import annotations

import io

from flask import Response, send_file
from flask_smorest import Blueprint

from gateway.api.session import db, get_gateway
from gateway.results import exports, stats
from gateway.results.api import internal_principal
from gateway.results.clock import china_today
from gateway.security import audit
from gateway.security.policy import permission
from gateway.security.principal import current_principal
from schemas.results import ExportFormatSchema, StatsQuerySchema, StatsSchema

stats_blp = Blueprint("stats", __name__, url_prefix="", description="监督统计与导出（第三十条）")

_FILE_DOC = {
    "responses": {
        "200": {
            "description": "The file (Excel or CSV, Chinese headers).",
            "content": {
                exports.XLSX_MIMETYPE: {"schema": {"type": "string", "format": "binary"}},
                "text/csv": {"schema": {"type": "string", "format": "binary"}},
            },
        }
    }
}


def _file_response(content: bytes, mimetype: str, filename: str) -> Response:
    return send_file(io.BytesIO(content), mimetype=mimetype, as_attachment=True, download_name=filename)


@stats_blp.route("/stats")
@permission("stats.read")
@stats_blp.arguments(StatsQuerySchema, location="query")
@stats_blp.response(200, StatsSchema)
@stats_blp.doc(**_FILE_DOC)
def supervision_stats(args):
    """Supervision statistics per lead department and per plan (JSON, or format=csv / xlsx)."""
    gateway, principal = get_gateway(), current_principal()
    data = stats.supervision_stats(
        gateway, db(), principal, as_of=args.get("as_of") or china_today(),
        year=args.get("year"), plan_id=args.get("plan_id"), department=args.get("department"),
    )
    if args["format"] == "json":
        return data
    return _file_response(*stats.stats_file(data, args["format"]))


@stats_blp.route("/exports/tasks")
@permission("tasks.read")
@stats_blp.arguments(ExportFormatSchema, location="query")
@stats_blp.doc(**_FILE_DOC)
def export_tasks(args):
    """The task list (抽查任务清单) as Excel or CSV, Chinese headers."""
    # lists inspectors' names: audited
    return _export(args, current_principal(), exports.task_rows, "tasks", "抽查任务清单", "双随机抽查任务清单", "抽查任务清单")


@stats_blp.route("/exports/results")
@permission("results.read")
@stats_blp.arguments(ExportFormatSchema, location="query")
@stats_blp.doc(**_FILE_DOC)
def export_results(args):
    """The results register (抽查检查结果登记表) as Excel or CSV, Chinese headers."""
    return _export(args, internal_principal(), exports.result_rows, "results", "抽查检查结果", "双随机抽查检查结果登记表",
                   "检查结果")


def _export(args, principal, rows_of, what: str, file_name: str, title: str, sheet: str) -> Response:
    """The rows ``rows_of`` gives for the filters in ``args``, as a CSV or Excel file; audited."""
    gateway = get_gateway()
    with gateway.write() as session:
        headers, rows = rows_of(gateway, session, principal, plan_id=args.get("plan_id"),
                                department=args.get("department"), year=args.get("year"))
        audit.record(session, principal, f"exports.{what}", "export", what,
                     {"rows": len(rows), "plan_id": args.get("plan_id"), "department": args.get("department")})
    stamp = china_today().isoformat()
    if args["format"] == "csv":
        return _file_response(exports.to_csv(headers, rows), exports.CSV_MIMETYPE, f"{file_name}-{stamp}.csv")
    content = exports.to_xlsx(title, headers, rows, sheet)
    return _file_response(content, exports.XLSX_MIMETYPE, f"{file_name}-{stamp}.xlsx")
