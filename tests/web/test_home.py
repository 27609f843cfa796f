def test_home_page_on_empty_warehouse_says_what_to_do(login) -> None:  # type: ignore[no-untyped-def]
    client = login("analyst")
    r = client.get("/")
    assert r.status_code == 200
    assert "No subscribers loaded yet" in r.text


def test_language_follows_browser_and_choice_sticks(login) -> None:  # type: ignore[no-untyped-def]
    client = login("analyst")
    zh = client.get("/", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"})
    assert 'lang="zh"' in zh.text
    ru = client.get("/?lang=ru")
    assert 'lang="ru"' in ru.text
    # the choice is remembered over the browser's preference
    again = client.get("/", headers={"Accept-Language": "zh-CN"})
    assert 'lang="ru"' in again.text
