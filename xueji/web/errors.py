"""Error pages in Chinese; never a stack trace."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string


def _page(request: HttpRequest, status: int, title: str, text: str) -> HttpResponse:
    body: str
    try:
        body = render_to_string("web/error.html", {"status": status, "title": title, "text": text}, request)
    except Exception:  # the error page must render even when templates or the database are the problem
        body = f"<!doctype html><meta charset=utf-8><title>{title}</title><h1>{title}</h1><p>{text}</p>"
    return HttpResponse(body, status=status)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _page(request, 400, "请求有误", "请求无法处理，请返回上一页重试。")


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _page(request, 403, "无权访问", "您的角色不能使用此功能。")


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _page(request, 404, "页面不存在", "您要找的页面不存在，或不在您的管理范围内。")


def server_error(request: HttpRequest) -> HttpResponse:
    return _page(request, 500, "系统出错", "系统出现错误，已记录。请稍后重试，或联系管理员。")
