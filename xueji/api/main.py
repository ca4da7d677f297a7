"""The JSON API, version 1: /api/v1/, its OpenAPI schema at /api/v1/openapi.json and its docs at /api/v1/docs.

Every operation authenticates with a user's bearer token, checks the user's role (403), and reads through the
same scope selectors as the web pages (404 outside the scope). Errors are JSON: ``{"detail", "errors"}``, where
``errors`` names each field the validator refused.
"""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.renderers import JSONRenderer

from xueji.api.auth import TokenAuth
from xueji.api.routers import admissions, orgs, reconcile, students

logger = logging.getLogger(__name__)


class ChineseJSONRenderer(JSONRenderer):
    """Chinese text as it is (UTF-8), not as \\u escapes: readable in logs and by people reading the answers."""

    json_dumps_params = {"ensure_ascii": False}


api = NinjaAPI(
    title="学籍管理系统 API",
    version="1",
    description=(
        "以用户的 API 令牌（在“API 令牌”页面创建）调用：请求头 `Authorization: Bearer <令牌>`。"
        "每个接口的数据范围与该用户在网页上所见相同；范围外的对象返回 404，角色不使用的接口返回 403。"
        "列表用游标分页：把上一页的 `next_cursor` 作为 `cursor` 传入。"
    ),
    urls_namespace="api-v1",
    auth=TokenAuth(),
    docs_url="/docs",
    openapi_url="/openapi.json",
    renderer=ChineseJSONRenderer(),
)


def _error(
    request: HttpRequest, status: int, detail: str, errors: list[dict[str, object]] | None = None
) -> HttpResponse:
    return api.create_response(request, {"detail": detail, "errors": errors or []}, status=status)


@api.exception_handler(AuthenticationError)
def _unauthorized(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    detail = exc.message if exc.message != "Unauthorized" else "请在请求头 Authorization: Bearer 中提供有效的 API 令牌"
    response = _error(request, 401, detail)
    response["WWW-Authenticate"] = "Bearer"
    return response


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return _error(request, exc.status_code, exc.message, getattr(exc, "errors", None))


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _error(request, 404, "不存在，或不在您的管理范围内")


@api.exception_handler(PermissionDenied)
def _forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return _error(request, 403, str(exc) or "您的角色不能使用此接口")


# pydantic's error types in the users' words; anything else keeps pydantic's own message.
MESSAGES = {
    "missing": "必须提供",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "string_type": "应为文本",
    "list_type": "应为列表",
    "greater_than_equal": "不能小于{ge}",
    "less_than_equal": "不能大于{le}",
    "string_too_long": "不能超过{max_length}个字符",
    "string_pattern_mismatch": "取值不在允许的范围内",
    "too_short": "至少需要{min_length}项",
    "too_long": "最多{max_length}项",
    "extra_forbidden": "不认识的字段",
    "json_invalid": "不是有效的 JSON",
    "model_attributes_type": "应为 JSON 对象",
    "dict_type": "应为 JSON 对象",
}


@api.exception_handler(ValidationError)
def _invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    """Parameters or a body of the wrong shape (before any validator runs): which parameter, and why."""
    errors: list[dict[str, object]] = []
    for error in exc.errors:
        location = [str(part) for part in error.get("loc", ())]
        template = MESSAGES.get(str(error.get("type", "")))
        try:
            message = template.format(**error.get("ctx", {})) if template else str(error.get("msg", ""))
        except (KeyError, IndexError):
            message = str(error.get("msg", ""))
        field = ".".join(location[1:]) or ".".join(location)
        errors.append({"field": field, "label": "", "value": None, "message": message})
    return _error(request, 422, "请求参数有误", errors)


@api.exception_handler(Exception)
def _server_error(request: HttpRequest, exc: Exception) -> HttpResponse:
    logger.exception("API error at %s", request.path)
    return _error(request, 500, "系统出现错误，已记录。请稍后重试，或联系管理员。")


api.add_router("/", orgs.router, tags=["学校、专业与班级"])
api.add_router("/admissions", admissions.router, tags=["招生信息"])
api.add_router("/students", students.router, tags=["学籍"])
api.add_router("/", reconcile.router, tags=["录取名册与核对"])
