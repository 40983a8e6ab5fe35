"""The baseline for bench/load.py: a bare Bolt app that only acknowledges, on the same server
(Waitress, same thread count) so the difference is Hypercare's own work on the request path."""
from __future__ import annotations

import os
import sys

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk.web import WebClient
from waitress import serve


def main() -> None:
    port = int(sys.argv[1])
    if len(sys.argv) > 2:  # load.py --tuned-bare: the same GIL switch interval as Hypercare's receiver
        sys.setswitchinterval(float(sys.argv[2]))
    client = WebClient(token=os.environ["SLACK_BOT_TOKEN"], base_url=os.environ["SLACK_API_URL"])
    app = App(signing_secret=os.environ["SLACK_SIGNING_SECRET"], client=client, token_verification_enabled=False, process_before_response=True)
    app.event("message")(lambda: None)
    serve(SlackRequestHandler(app), host="127.0.0.1", port=port, threads=int(os.environ.get("HYPERCARE_HTTP_THREADS", "16")), _quiet=True)


if __name__ == "__main__":
    main()
