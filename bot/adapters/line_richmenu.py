"""The LINE rich menu: three buttons that send the words a user could type (質問する / 予定 / 報告)."""
from __future__ import annotations

from pathlib import Path

from linebot.v3.messaging import ApiClient, Configuration, MessagingApi, MessagingApiBlob, RichMenuRequest

IMAGE = Path(__file__).resolve().parent.parent / "assets" / "richmenu.png"
WIDTH, HEIGHT = 2500, 843
BUTTONS = ("質問する", "予定", "報告")


def menu_request() -> RichMenuRequest:
    w = WIDTH // len(BUTTONS)
    areas = [{"bounds": {"x": i * w, "y": 0, "width": w if i < len(BUTTONS) - 1 else WIDTH - i * w, "height": HEIGHT},
              "action": {"type": "message", "label": label, "text": label}} for i, label in enumerate(BUTTONS)]
    return RichMenuRequest.from_dict({"size": {"width": WIDTH, "height": HEIGHT}, "selected": True,
                                      "name": "Nimo", "chatBarText": "メニュー", "areas": areas})


def create_rich_menu(*, access_token: str, base_url: str, data_url: str, image: Path | None = None) -> str:
    image = image or IMAGE
    api = MessagingApi(ApiClient(Configuration(host=base_url.rstrip("/"), access_token=access_token)))
    blob = MessagingApiBlob(ApiClient(Configuration(host=data_url.rstrip("/"), access_token=access_token)))
    menu_id = api.create_rich_menu(menu_request()).rich_menu_id
    blob.set_rich_menu_image(menu_id, body=bytearray(image.read_bytes()),
                             _headers={"Content-Type": "image/png"})
    api.set_default_rich_menu(menu_id)
    return menu_id
