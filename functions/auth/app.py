"""AuthFunction: register, login, profile, GDPR export and delete."""

from companion.deps import Student
from companion.errors import NotImplementedYet
from companion.web import create_app, lambda_handler

app = create_app("Course Companion - accounts", "Register, log in and manage your account.")


@app.post("/auth/register", status_code=201)
def register():
    raise NotImplementedYet("Registration is not available yet.")


@app.post("/auth/login")
def login():
    raise NotImplementedYet("Logging in is not available yet.")


@app.get("/v1/me")
def get_profile(student: Student):
    raise NotImplementedYet("Profiles are not available yet.")


@app.patch("/v1/me")
def update_profile(student: Student):
    raise NotImplementedYet("Profiles are not available yet.")


@app.get("/v1/me/export")
def export_my_data(student: Student):
    raise NotImplementedYet("Data export is not available yet.")


@app.delete("/v1/me", status_code=204)
def delete_account(student: Student):
    raise NotImplementedYet("Account deletion is not available yet.")


handler = lambda_handler(app)
