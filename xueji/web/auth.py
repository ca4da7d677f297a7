from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import views as auth_views
from django.http import HttpResponse
from django.urls import reverse_lazy

from xueji.orgs.services import account_password_changed


class LoginForm(auth_forms.AuthenticationForm):
    error_messages = {
        "invalid_login": "用户名或密码不正确。连续输错多次后，该账号在本机上将被暂时锁定。",
        "inactive": "该账号已停用，请联系上级管理部门。",
    }


class LoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


class PasswordChangeForm(auth_forms.PasswordChangeForm):
    def clean_new_password1(self) -> str:
        new = self.cleaned_data.get("new_password1", "")
        if self.user.check_password(new):
            raise forms.ValidationError("新密码不能与原密码相同")
        return new


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "registration/password_change.html"
    form_class = PasswordChangeForm
    success_url = reverse_lazy("home")

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        account_password_changed(user=self.request.user, request=self.request)  # type: ignore[arg-type]
        messages.success(self.request, "密码已修改")
        return response
