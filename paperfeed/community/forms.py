from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm, BaseUserCreationForm

from paperfeed.community.models import Comment, Profile
from paperfeed.lib.arxiv_ids import ArxivId, InvalidArxivId, parse_arxiv_id

User = get_user_model()


class SignUpForm(BaseUserCreationForm):
    email = forms.EmailField(help_text="We send a link to confirm it; it is never shown.")

    class Meta(BaseUserCreationForm.Meta):
        model = User
        fields = ("username", "email")
        labels = {"username": "User name (shown with your comments)"}

    def clean_username(self) -> str:
        username = self.cleaned_data["username"]
        # Usernames differing only by case would be confused for each other.
        if User.objects.filter(username__iexact=username).exists():
            raise forms.ValidationError("That user name is taken.")
        return username

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip()
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError(
                "An account already uses this address. Forgot your password? Reset it."
            )
        return email


class SignInForm(AuthenticationForm):
    """Sign in with the e-mail address or the user name."""

    username = forms.CharField(label="E-mail or user name", max_length=254)

    def clean(self):
        login = (self.cleaned_data.get("username") or "").strip()
        if "@" in login:
            match = User.objects.filter(email__iexact=login).order_by("pk").first()
            if match is not None:
                self.cleaned_data["username"] = match.get_username()
        return super().clean()


class ProfileForm(forms.ModelForm):
    class Meta:
        model = Profile
        fields = ["bio"]
        widgets = {"bio": forms.Textarea(attrs={"rows": 3, "maxlength": 500})}
        labels = {"bio": "About you (plain text, public)"}


class DeleteAccountForm(forms.Form):
    password = forms.CharField(widget=forms.PasswordInput, label="Your password, to confirm")

    def __init__(self, user, *args, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError("That is not your password.")
        return password


class CommentForm(forms.ModelForm):
    parent = forms.IntegerField(required=False, widget=forms.HiddenInput)

    class Meta:
        model = Comment
        fields = ["body"]
        widgets = {"body": forms.Textarea(attrs={"rows": 4, "maxlength": 10_000})}
        labels = {"body": "Comment (Markdown)"}
        error_messages = {"body": {"required": "A comment cannot be empty."}}

    def clean_body(self) -> str:
        body = self.cleaned_data["body"].strip()
        if not body:
            raise forms.ValidationError("A comment cannot be empty.")
        return body


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=1000, widget=forms.TextInput(
        attrs={"placeholder": "Reason (logged)", "required": True}))


class SubmitForm(forms.Form):
    arxiv_id = forms.CharField(
        label="arXiv id or URL", max_length=300,
        help_text="For example 2401.12345, arXiv:2401.12345v2, https://arxiv.org/abs/2401.12345 "
                  "or hep-th/9901001.",
    )
    comment = forms.CharField(
        required=False, max_length=10_000, label="Why it is worth reading (optional, Markdown)",
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def clean_arxiv_id(self) -> ArxivId:
        try:
            return parse_arxiv_id(self.cleaned_data["arxiv_id"])
        except InvalidArxivId as exc:
            raise forms.ValidationError(str(exc)) from None
