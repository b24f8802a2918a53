"""A file import over the API: the uploaded CSV or XLSX, refused whole when a row is bad unless
``partial`` keeps the good rows; every error names its row and column."""
from __future__ import annotations

from typing import Any

from flask import request
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from gateway.api.session import get_gateway
from gateway.directory.importing.importer import ImportFileError
from gateway.directory.importing.run import run_import
from gateway.errors import Invalid
from gateway.security.principal import Principal
from schemas.directory import ImportReportSchema


class ImportArgsSchema(Schema):
    partial = fields.Boolean(load_default=False, metadata={"description": "keep the good rows"})


class ImportFileSchema(Schema):
    file = fields.Raw(metadata={"type": "string", "format": "binary"}, required=True)


def import_view(blp: Blueprint, args_schema: type[Schema] = ImportArgsSchema,
                file_schema: type[Schema] = ImportFileSchema):
    """An import view's arguments and answer: ``?partial=`` and the multipart ``file`` in, the
    import report out."""
    def decorate(view):
        view = blp.response(200, ImportReportSchema)(view)
        view = blp.arguments(file_schema, location="files")(view)
        return blp.arguments(args_schema, location="query")(view)
    return decorate


def import_upload(principal: Principal, kind: str, partial: bool,
                  allowed_departments: list[str] | None = None) -> dict[str, Any]:
    """Import the request's ``file`` as ``kind``; the report, or the domain error saying what is wrong."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise Invalid("validation_error", "提交的数据未通过校验。", {"file": ["请上传 CSV 或 XLSX 文件。"]})
    try:
        report = run_import(get_gateway(), principal, kind, upload.stream, upload.filename,
                            partial=partial, allowed_departments=allowed_departments)
    except ImportFileError as exc:
        raise Invalid("import_file_invalid", str(exc)) from None
    if not report.committed:
        raise Invalid("import_rows_invalid", f"共 {report.error_count} 处错误，未导入任何数据。",
                      report.as_dict()["errors"])
    return report.as_dict()
