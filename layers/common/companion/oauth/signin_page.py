"""The sign-in page at the authorization endpoint: plain server-rendered HTML, one form to
sign in and one to create an account, no JavaScript, readable on a 320 px phone."""

from __future__ import annotations

from html import escape

from companion.oauth import SCOPE_DESCRIPTION

# Every parameter of the authorization request, carried through the form unchanged.
AUTHORIZATION_PARAMETERS = (
    "response_type",
    "client_id",
    "redirect_uri",
    "state",
    "scope",
    "resource",
    "code_challenge",
    "code_challenge_method",
)

STYLE = """
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
 background:#f4f5f7;color:#1d2330}
main{max-width:420px;margin:0 auto;padding:24px 16px}
h1{font-size:1.4rem;margin:0 0 4px}
.card{background:#fff;border-radius:12px;padding:4px 20px 20px;margin:16px 0;
 box-shadow:0 1px 3px rgba(0,0,0,.12)}
.client{font-weight:600}
.scope{color:#3b4252;margin:8px 0 0}
label{display:block;font-weight:600;margin:12px 0 4px}
input[type=email],input[type=password],input[type=text]{width:100%;padding:12px;
 font-size:1rem;border:1px solid #9aa3b2;border-radius:8px}
button{width:100%;margin-top:16px;padding:12px;font-size:1rem;font-weight:600;
 border:0;border-radius:8px;background:#2454d6;color:#fff;cursor:pointer}
button.secondary{background:#e6e9ef;color:#1d2330}
.error{background:#fdecec;color:#8a1c1c;border:1px solid #f3b6b6;border-radius:8px;
 padding:12px;margin:16px 0}
summary{font-weight:600;cursor:pointer}
small{color:#5b6475}
"""


def _hidden(parameters: dict[str, str], csrf_token: str) -> str:
    fields = [
        f'<input type="hidden" name="{name}" value="{escape(parameters[name])}">'
        for name in AUTHORIZATION_PARAMETERS
        if parameters.get(name)
    ]
    fields.append(f'<input type="hidden" name="csrf_token" value="{escape(csrf_token)}">')
    return "\n".join(fields)


def _document(title: str, body: str) -> str:
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{escape(title)}</title>
<style>{STYLE}</style>
</head>
<body><main>
{body}
</main></body>
</html>
"""


def sign_in_page(
    *,
    action: str,
    client_name: str,
    parameters: dict[str, str],
    csrf_token: str,
    error: str | None = None,
    email: str = "",
    registering: bool = False,
) -> str:
    """The page asking the student to sign in (or create an account) for `client_name`."""
    hidden = _hidden(parameters, csrf_token)
    client = escape(client_name)
    message = f'<p class="error" role="alert">{escape(error)}</p>' if error else ""
    sign_in_email = "" if registering else escape(email)
    register_email = escape(email) if registering else ""
    return _document(
        f"Sign in to Course Companion for {client_name}",
        f"""<h1>Sign in to Course Companion</h1>
<div class="card">
<p><span class="client">{client}</span> wants to use your Course Companion account.</p>
<p class="scope">It will be able to {escape(SCOPE_DESCRIPTION)}.</p>
</div>
{message}
<form class="card" method="post" action="{escape(action)}">
{hidden}
<input type="hidden" name="action" value="sign_in">
<label for="email">E-mail</label>
<input id="email" name="email" type="email" autocomplete="username" required
 value="{sign_in_email}">
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password"
 required>
<button type="submit">Sign in and allow</button>
</form>
<details class="card"{" open" if registering else ""}>
<summary>New here? Create an account</summary>
<form method="post" action="{escape(action)}">
{hidden}
<input type="hidden" name="action" value="register">
<label for="new-name">Your name <small>(optional)</small></label>
<input id="new-name" name="full_name" type="text" autocomplete="name">
<label for="new-email">E-mail for your new account</label>
<input id="new-email" name="email" type="email" autocomplete="email" required
 value="{register_email}">
<label for="new-password">Choose a password <small>(at least 8 characters)</small></label>
<input id="new-password" name="password" type="password" autocomplete="new-password"
 required minlength="8">
<button type="submit">Create account and allow</button>
</form>
</details>
<form method="post" action="{escape(action)}">
{hidden}
<input type="hidden" name="action" value="deny">
<button class="secondary" type="submit">Cancel</button>
</form>""",
    )


def error_page(error: str) -> str:
    """A request that cannot be answered by a redirect (unknown client, wrong redirect URI):
    said here, to the student, and never sent anywhere."""
    return _document(
        "Course Companion: this sign-in link does not work",
        f"""<h1>This sign-in link does not work</h1>
<p class="error" role="alert">{escape(error)}</p>
<p>Go back to the app you came from and start signing in again. If it keeps happening,
tell the course team which app sent you here.</p>""",
    )
