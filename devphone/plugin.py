"""/dev-phone, when the dev phone is on (app.create_app made it: runtime.extras["dev_phone"])."""
from devphone.http import install


def load(app, runtime) -> None:
    dev_phone = runtime.extras.get("dev_phone")
    if dev_phone is not None:  # off: nothing is registered, /dev-phone is a 404
        install(app, runtime, dev_phone)
