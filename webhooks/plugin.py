"""Twilio's and the public channels' endpoints: calls, media streams, the calls the dispatcher
places, the callback API, chat and SMS webhooks, the waiting page, and /demo (the "Call me back" button in place)."""
from webhooks.api import api, init_api
from webhooks.chat import chat, init_chat
from webhooks.media import init_media
from webhooks.outbound import outbound
from webhooks.public import demo
from webhooks.sms import sms
from webhooks.voice import voice
from webhooks.waiting import page as waiting_page
from webhooks.widget import widget


def load(app, runtime) -> None:
    init_media(app)  # /media: Twilio Media Streams carrying spoken answers
    init_api(app)
    init_chat(app)
    for blueprint in (voice, outbound, api, chat, sms, demo, waiting_page, widget):
        app.register_blueprint(blueprint)
