"""The interactive API docs work without a network: Swagger UI is served from node_modules."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from telcamp.app import create_app


def test_api_docs_page_and_its_assets_are_served_locally() -> None:
    with TestClient(create_app()) as client:
        page = client.get("/docs")
        assert page.status_code == 200
        assets = re.findall(r"""(?:src|href)=['"]([^'"]+)['"]""", page.text)
        assert assets, page.text
        for url in assets:
            assert url.startswith("/"), f"external asset {url}"
            assert client.get(url).status_code == 200, url
        assert client.get("/openapi.json").json()["info"]["title"] == "Telcamp"
