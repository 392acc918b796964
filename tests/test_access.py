"""Access: with [auth] in the secrets file nobody sees data before signing in, and decisions record
the signed-in account; without it the app works as before. Run with AppTest, whose `at.user` is the
`st.user` a page reads (Streamlit's supported way to test a signed-in or signed-out visitor)."""

from __future__ import annotations

import json
import re
import secrets
import shutil
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from brightrun_gen.config import Settings, get_settings
from brightrun_gen.domain.access import signin_refusal
from brightrun_gen.domain.markdown import escape_markdown
from brightrun_gen.services import review
from brightrun_gen.services.setup import open_engine

PAGES = ("dashboard", "review", "export", "catalog", "activity")
AUTH = """
[auth]
redirect_uri = "http://localhost:8501/oauth2callback"
cookie_secret = "a-long-random-string-for-the-tests"
client_id = "brightrun-tests"
client_secret = "not-a-real-secret"
server_metadata_url = "https://accounts.example.com/.well-known/openid-configuration"
"""
ADA = {"is_logged_in": True, "name": "Ada Lovelace", "email": "ada@example.com"}
MALLORY = {"is_logged_in": True, "name": "Mallory", "email": "mallory@elsewhere.example.org"}
ALLOW_LIST = 'allowed_signins = ["Ada@Example.com", "@team.example.com"]\n'
# What a page may draw for a signed-in visitor who is not on the allow-list: a title, why, sign out.
REFUSED_ELEMENTS = {"title", "error", "button"}
# What a page may draw for a visitor who has not signed in: a title, a sentence, the button.
SIGN_IN_ELEMENTS = {"title", "markdown", "button"}


@contextmanager
def _app_store(template_db, tmp_path, monkeypatch, secrets: str):
    """A copy of the template store and a secrets file that the app under test opens; closed after."""
    target = tmp_path / "app.db"
    shutil.copy(template_db, target)
    secrets_file = tmp_path / "secrets.toml"
    secrets_file.write_text(secrets, encoding="utf-8")
    monkeypatch.setenv("BRIGHTRUN_DATABASE_URL", f"sqlite:///{target}")
    monkeypatch.setenv("BRIGHTRUN_PROVIDER", "offline")
    monkeypatch.setenv("BRIGHTRUN_SECRETS_FILE", str(secrets_file))
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    get_settings.cache_clear()
    st.cache_resource.clear()
    engine = open_engine(f"sqlite:///{target}")
    yield engine
    engine.dispose()
    st.cache_resource.clear()
    get_settings.cache_clear()


@pytest.fixture
def login_on(template_db, tmp_path, monkeypatch):
    with _app_store(template_db, tmp_path, monkeypatch, 'reviewer = "configured name"\n' + AUTH) as engine:
        assert get_settings().auth_configured
        yield engine


@pytest.fixture
def login_on_with_allow_list(template_db, tmp_path, monkeypatch):
    with _app_store(template_db, tmp_path, monkeypatch, ALLOW_LIST + AUTH) as engine:
        assert get_settings().allowed_signins == ["ada@example.com", "@team.example.com"]
        yield engine


@pytest.fixture
def login_off(template_db, tmp_path, monkeypatch):
    with _app_store(template_db, tmp_path, monkeypatch, 'reviewer = "configured name"\n') as engine:
        assert not get_settings().auth_configured
        yield engine


def open_page(page: str, user: dict | None = None, **query) -> AppTest:
    at = AppTest.from_file("../app.py", default_timeout=60)
    if user is not None:
        at.user = user
    at.switch_page(f"pages/{page}.py")
    at.query_params.update(query)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def elements_in(block) -> list:
    """Every element drawn in a block (containers left out)."""
    return [node for node in block if not hasattr(node, "children")]


def elements(at: AppTest) -> list:
    """Every element the run drew, main area and sidebar."""
    return elements_in(at._tree)


def drawn_text_of(block) -> str:
    return "\n".join(str(node.proto) for node in elements_in(block))


def drawn_text(at: AppTest) -> str:
    return drawn_text_of(at._tree)


# --- the setting ---------------------------------------------------------------------------------


def test_auth_is_configured_by_an_auth_section_in_the_secrets_file(tmp_path):
    secrets = tmp_path / "secrets.toml"
    assert not Settings(_env_file=None, secrets_file=secrets).auth_configured  # no file
    secrets.write_text('reviewer = "x"\n[connections.other]\nurl = "y"\n', encoding="utf-8")
    assert not Settings(_env_file=None, secrets_file=secrets).auth_configured
    secrets.write_text("[auth]\n", encoding="utf-8")  # incomplete still closes the app
    assert Settings(_env_file=None, secrets_file=secrets).auth_configured
    secrets.write_text(AUTH, encoding="utf-8")
    assert Settings(_env_file=None, secrets_file=secrets).auth_configured


def test_the_secrets_file_can_be_moved_with_an_environment_variable(tmp_path, monkeypatch):
    secrets = tmp_path / "elsewhere.toml"
    secrets.write_text('reviewer = "from the moved file"\n' + AUTH, encoding="utf-8")
    monkeypatch.setenv("BRIGHTRUN_SECRETS_FILE", str(secrets))
    settings = Settings(_env_file=None)
    assert (settings.secrets_file, settings.reviewer) == (secrets, "from the moved file")
    assert settings.auth_configured


@pytest.mark.parametrize("env, named", [
    ({"BRIGHTRUN_CONCURRENCY": "abc"}, "BRIGHTRUN_CONCURRENCY (or concurrency in the secrets file): Input should be"),
    ({"BRIGHTRUN_ALLOWED_SIGNINS": "@example.com, bob"}, "allowed sign-in 'bob' is neither an email"),
], ids=["not-a-number", "bad-allow-list"])
def test_a_bad_setting_is_one_line_naming_it_on_the_cli_and_on_every_page(login_on, monkeypatch, capsys, env, named):
    from brightrun_gen.cli import main

    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    assert main(["list"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: bad setting: ") and named in err and err.count("\n") == 1
    for page in PAGES:
        at = open_page(page)
        assert [e.value for e in at.error] == [escape_markdown(err.removeprefix("error: ").strip())]
        assert {e.type for e in elements(at)} == {"error"}, page  # nothing else: no data, no sign-in


def test_a_secrets_file_that_is_not_toml_names_the_file_and_the_place(tmp_path, monkeypatch, capsys):
    from brightrun_gen.cli import main

    secrets = tmp_path / "secrets.toml"
    secrets.write_text('reviewer = "x"\nallowed_signins = [\n', encoding="utf-8")
    monkeypatch.setenv("BRIGHTRUN_SECRETS_FILE", str(secrets))
    get_settings.cache_clear()
    assert main(["list"]) == 2
    assert capsys.readouterr().err.startswith(f"error: {secrets}: not valid TOML: ")


# --- the allow-list --------------------------------------------------------------------------------


def test_allowed_signins_come_from_the_environment_or_the_secrets_file(tmp_path, monkeypatch):
    secrets = tmp_path / "secrets.toml"
    assert Settings(_env_file=None, secrets_file=secrets).allowed_signins == []
    secrets.write_text(ALLOW_LIST + AUTH, encoding="utf-8")
    assert Settings(_env_file=None, secrets_file=secrets).allowed_signins == ["ada@example.com", "@team.example.com"]
    monkeypatch.setenv("BRIGHTRUN_ALLOWED_SIGNINS", " Elena@Example.com ,, @Bright.example ")
    assert Settings(_env_file=None, secrets_file=secrets).allowed_signins == ["elena@example.com", "@bright.example"]


@pytest.mark.parametrize("entry", ["example.com", "elena@", "a@b@example.com", "elena smith@example.com"])
def test_an_allowed_signin_that_is_neither_an_email_nor_a_domain_is_refused(entry):
    with pytest.raises(ValueError, match=f"allowed sign-in {entry!r} is neither an email"):
        Settings(_env_file=None, allowed_signins=f"@example.com,{entry}")


@pytest.mark.parametrize("claims", [{"email": "ada@example.com"}, {"email": "  ADA@Example.COM "},
                                    {"email": "bob@team.example.com"}, {"email": "Bob@TEAM.example.com"},
                                    {"email": "ada@example.com", "email_verified": True},
                                    {"email": "ada@example.com", "email_verified": "true"}],
                         ids=["exact", "case-and-spaces", "domain", "domain-case", "verified", "verified-string"])
def test_listed_emails_and_domains_are_allowed(claims):
    assert signin_refusal([" Ada@Example.com", "@Team.Example.com "], claims) is None


@pytest.mark.parametrize("claims, reason", [
    ({"email": "eve@example.com"}, "eve@example.com is not allowed to use this app; ask the owner to add you"),
    ({"email": "bob@eu.team.example.com"}, "bob@eu.team.example.com is not allowed"),  # a subdomain is another domain
    ({"email": "bob@notteam.example.com"}, "bob@notteam.example.com is not allowed"),
    ({"email": "ada@example.com.evil.org"}, "ada@example.com.evil.org is not allowed"),
    ({"email": "x@ada@example.com"}, "x@ada@example.com is not allowed"),
    ({"name": "Grace Hopper", "sub": "g-1"}, "Grace Hopper signed in without an email address"),
    ({"email": "  ", "sub": "g-1"}, "g-1 signed in without an email address"),
    ({"email": "ada@example.com", "email_verified": False}, "ada@example.com is not verified by the sign-in provider"),
    ({"email": "bob@team.example.com", "email_verified": "false"}, "bob@team.example.com is not verified"),
], ids=["other-email", "subdomain", "suffix-domain", "lookalike", "two-ats", "no-email", "blank-email",
        "unverified", "unverified-string"])
def test_anyone_else_is_refused_with_a_reason(claims, reason):
    assert signin_refusal(["ada@example.com", "@team.example.com"], claims).startswith(reason)


@pytest.mark.parametrize("claims", [{"email": "eve@example.com", "email_verified": False}, {}], ids=["unverified", "empty"])
def test_without_an_allow_list_everyone_who_signs_in_is_allowed(claims):
    assert signin_refusal([], claims) is None


@pytest.mark.parametrize("page", PAGES)
def test_a_signed_in_user_not_on_the_list_sees_only_why_and_can_sign_out(login_on_with_allow_list, page):
    at = open_page(page, MALLORY, id="1")
    assert [e.value for e in at.error] == [
        "mallory@elsewhere\\.example\\.org is not allowed to use this app; ask the owner to add you"]
    assert {node.type for node in elements(at)} <= REFUSED_ELEMENTS
    assert not at.sidebar.children or not elements_in(at.sidebar)
    text = drawn_text(at)
    for leak in ("T1-001", "T1-002", "seed_01", "Database:", "Conversations", "Marcus", "Showing"):
        assert leak not in text, f"{page}: {leak!r} is shown to a signed-in user not on the list"
    at.button(key="sign_out").click().run()
    assert not at.exception
    assert at.user == {"is_logged_in": False}
    assert at.button(key="sign_in") and not at.error


def test_the_allow_list_is_checked_before_the_store_is_opened(login_on_with_allow_list, monkeypatch):
    import pages.common as common

    def refuse():
        raise AssertionError("the store was opened for a signed-in user not on the allow-list")

    monkeypatch.setattr(common, "BrightRun", refuse)
    for page in PAGES:
        open_page(page, {**ADA, "email_verified": False})


@pytest.mark.parametrize("user", [ADA, {"is_logged_in": True, "name": "Bob", "email": "Bob@Team.Example.com"}],
                         ids=["listed-email", "listed-domain"])
def test_a_signed_in_user_on_the_list_sees_the_data_and_decides(login_on_with_allow_list, user):
    at = open_page("review", user, id="1")
    assert not at.error
    at.button(key="decide_approved").click().run()
    assert not at.exception
    [event] = review.history(login_on_with_allow_list, 1)
    assert (event["action"], event["reviewer"]) == ("approved", user["email"])


# --- login on ------------------------------------------------------------------------------------


@pytest.mark.parametrize("user", [{"is_logged_in": False}, {"email": "test@example.com"}, {}],
                         ids=["signed-out", "no-login-claim", "empty"])
@pytest.mark.parametrize("page", PAGES)
def test_a_visitor_who_has_not_signed_in_sees_only_the_sign_in_screen(login_on, page, user):
    at = open_page(page, user, id="1")
    assert at.button(key="sign_in").label == "Sign in"
    assert {node.type for node in elements(at)} <= SIGN_IN_ELEMENTS
    assert not at.sidebar.children or not elements_in(at.sidebar)
    text = drawn_text(at)
    for leak in ("T1-001", "T1-002", "seed_01", "Database:", "Conversations", "Marcus", "Showing"):
        assert leak not in text, f"{page}: {leak!r} is shown before signing in"


def test_the_gate_comes_before_the_store_is_opened(login_on, monkeypatch):
    import pages.common as common

    def refuse():
        raise AssertionError("the store was opened for a visitor who has not signed in")

    monkeypatch.setattr(common, "BrightRun", refuse)
    for page in PAGES:
        open_page(page, {"is_logged_in": False})


def test_sign_in_that_is_not_set_up_says_so_instead_of_failing(login_on):
    # Streamlit's own secrets (not BRIGHTRUN_SECRETS_FILE) have no [auth] here, so st.login refuses.
    at = open_page("dashboard", {"is_logged_in": False})
    at.button(key="sign_in").click().run()
    assert not at.exception
    # Shown escaped, like every error on a page: it quotes text from outside (here Streamlit's).
    assert at.error and at.error[0].value.startswith(escape_markdown("Sign-in is not set up correctly:"))
    assert at.button(key="sign_in")


def test_a_signed_in_user_sees_the_data_their_name_and_can_sign_out(login_on):
    at = open_page("dashboard", ADA)
    assert any("conversations" in c.value for c in at.caption)
    sidebar = drawn_text_of(at.sidebar)
    assert "Ada Lovelace" in sidebar and "ada@example\\\\.com" in sidebar
    at.button(key="sign_out").click().run()
    assert not at.exception
    assert at.user == {"is_logged_in": False}
    assert at.button(key="sign_in") and not any("conversations" in c.value for c in at.caption)


def test_decisions_record_the_signed_in_email_not_a_typed_name(login_on):
    at = open_page("review", ADA, id="1")
    shown = at.text_input(key="reviewer_signed_in")
    assert (shown.value, shown.disabled) == ("ada@example.com", True)
    assert not [w for w in at.text_input if w.key == "reviewer"]
    at.session_state["reviewer"] = "mallory"  # a name sneaked into the session is not used
    at.button(key="decide_approved").click().run()
    assert not at.exception
    [event] = review.history(login_on, 1)
    assert (event["action"], event["reviewer"]) == ("approved", "ada@example.com")


def test_without_an_email_claim_the_name_is_recorded(login_on):
    at = open_page("review", {"is_logged_in": True, "name": "Grace Hopper"}, id="2")
    assert at.text_input(key="reviewer_signed_in").value == "Grace Hopper"
    at.button(key="decide_rejected").click().run()
    assert review.history(login_on, 2)[0]["reviewer"] == "Grace Hopper"


# --- login off (the local default) -----------------------------------------------------------------


@pytest.mark.parametrize("page", PAGES)
def test_with_login_off_every_page_shows_its_data_as_before(login_off, page):
    at = open_page(page, id="1")
    assert not [b for b in at.button if b.key in ("sign_in", "sign_out")]
    assert "Database:" in drawn_text_of(at.sidebar)
    text = drawn_text(at)
    expected = {"dashboard": "conversations", "review": "T1-001", "export": "Conversations to export",
                "catalog": "Marcus", "activity": "T1-00"}[page]
    assert expected in text.replace("\\", ""), f"{page} does not show its data"


def test_with_login_off_the_typed_reviewer_name_is_recorded(login_off):
    at = open_page("review", id="1")
    assert at.text_input(key="reviewer").value == "configured name"
    at.text_input(key="reviewer").input("Sam").run()
    at.button(key="decide_needs_edit").click().run()
    assert review.history(login_off, 1)[0]["reviewer"] == "Sam"


# --- the real sign-in, in a browser, against a local OpenID Connect provider ------------------------


class FakeOIDCProvider:
    """A local OpenID Connect provider that signs in one person without asking: discovery, an
    authorize endpoint that redirects straight back with a code, a token endpoint that answers
    with a signed ID token (RS256) and the key set to check it."""

    def __init__(self, claims: dict):
        from joserfc.jwk import RSAKey

        self.claims = claims
        self.key = RSAKey.generate_key(2048, parameters={"kid": "test-key"})
        self.nonces: dict[str, str] = {}
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                url = urlsplit(self.path)
                if url.path == "/.well-known/openid-configuration":
                    return self._json(provider.metadata())
                if url.path == "/jwks":
                    return self._json({"keys": [provider.key.as_dict(private=False)]})
                if url.path == "/authorize":
                    query = dict(parse_qsl(url.query))
                    code = secrets.token_urlsafe(16)
                    provider.nonces[code] = query.get("nonce", "")
                    back = f"{query['redirect_uri']}?{urlencode({'code': code, 'state': query['state']})}"
                    self.send_response(302)
                    self.send_header("Location", back)
                    self.end_headers()
                    return None
                self.send_error(404)
                return None

            def do_POST(self):
                form = dict(parse_qsl(self.rfile.read(int(self.headers["Content-Length"])).decode()))
                if urlsplit(self.path).path != "/token" or form.get("code") not in provider.nonces:
                    return self._json({"error": "invalid_grant"}, 400)
                return self._json({"access_token": secrets.token_urlsafe(16), "token_type": "Bearer",
                                   "expires_in": 3600, "id_token": provider.id_token(form["code"])})

            def _json(self, body, status=200):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def metadata(self) -> dict:
        return {"issuer": self.base_url, "authorization_endpoint": f"{self.base_url}/authorize",
                "token_endpoint": f"{self.base_url}/token", "jwks_uri": f"{self.base_url}/jwks",
                "response_types_supported": ["code"], "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"]}

    def id_token(self, code: str) -> str:
        from joserfc import jwt

        now = int(time.time())
        claims = {"iss": self.base_url, "aud": "brightrun-tests", "iat": now, "exp": now + 600,
                  "nonce": self.nonces.pop(code), **self.claims}
        return jwt.encode({"alg": "RS256", "kid": "test-key"}, claims, self.key)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.browser
def test_sign_in_in_the_browser_records_the_reviewer_and_sign_out_closes_the_app(template_db, tmp_path):
    """`streamlit run` with [auth]: the sign-in screen, the provider's round trip, the signed-in
    sidebar, a decision recorded for the ID token's email, and the sign-out."""
    from playwright.sync_api import expect, sync_playwright

    from tests.support.browser import launch_chromium, wait_ready
    from tests.support.fake_messages_api import FakeMessagesAPI
    from tests.support.ports import free_port
    from tests.support.streamlit_server import start_claude_app, stop_app

    database = tmp_path / "app.db"
    shutil.copy(template_db, database)
    port = free_port()
    provider = FakeOIDCProvider({"sub": "ada-1", "email": "ada@example.com", "name": "Ada Lovelace"})
    secrets_file = tmp_path / "secrets.toml"
    secrets_file.write_text(AUTH.replace("http://localhost:8501", f"http://127.0.0.1:{port}").replace(
        "https://accounts.example.com", provider.base_url), encoding="utf-8")
    with FakeMessagesAPI() as fake:
        server, base = start_claude_app(f"sqlite:///{database}", fake, tmp_path / "streamlit.log",
                                        {"secrets.files": str(secrets_file)}, port=port,
                                        BRIGHTRUN_SECRETS_FILE=str(secrets_file))
        try:
            with sync_playwright() as p:
                browser = launch_chromium(p)
                page = browser.new_page()
                page.set_default_timeout(30_000)
                page.goto(f"{base}/review?id=1")
                wait_ready(page)
                expect(page.get_by_role("button", name="Sign in")).to_be_visible()
                expect(page.get_by_text("T1-001")).to_have_count(0)

                page.get_by_role("button", name="Sign in").click()
                sidebar = page.locator('[data-testid="stSidebar"]')
                expect(sidebar).to_contain_text("Signed in as Ada Lovelace")
                expect(sidebar).to_contain_text("ada@example.com")

                page.goto(f"{base}/review?id=1")
                wait_ready(page)
                reviewer = page.get_by_role("textbox", name="Reviewer")
                expect(reviewer).to_have_value("ada@example.com")
                expect(reviewer).to_be_disabled()
                page.get_by_role("button", name=re.compile(r"^Approve(\s|$)")).click()  # its name ends with its key
                expect(page.get_by_text("Approved: T1-001").first).to_be_visible()

                sidebar.get_by_role("button", name="Sign out").click()
                expect(page.get_by_role("button", name="Sign in")).to_be_visible()
                page.goto(f"{base}/review?id=1")
                wait_ready(page)
                expect(page.get_by_role("button", name="Sign in")).to_be_visible()
                expect(page.get_by_text("T1-001")).to_have_count(0)
                browser.close()
        finally:
            stop_app(server)
            provider.close()
    engine = open_engine(f"sqlite:///{database}")
    events = review.history(engine, 1)
    engine.dispose()
    # One click may reach review() twice (the sidebar's 2 s fragment keeps rerunning); it is recorded once.
    assert [(e["action"], e["reviewer"]) for e in events] == [("approved", "ada@example.com")]
