def test_home_page_on_empty_warehouse_says_what_to_do(login) -> None:  # type: ignore[no-untyped-def]
    client = login("analyst")
    r = client.get("/")
    assert r.status_code == 200
    assert "No subscribers loaded yet" in r.text
    # the command as code, not between Markdown backticks shown as they are
    assert "<code>telcamp load DIR</code>" in r.text and "`" not in r.text


def test_language_follows_browser_and_choice_sticks(login) -> None:  # type: ignore[no-untyped-def]
    client = login("analyst")
    zh = client.get("/", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"})
    assert 'lang="zh"' in zh.text
    ru = client.get("/?lang=ru")
    assert 'lang="ru"' in ru.text
    # the choice is remembered over the browser's preference
    again = client.get("/", headers={"Accept-Language": "zh-CN"})
    assert 'lang="ru"' in again.text


def test_home_figures_cover_the_users_region_only(login, test_regions) -> None:  # type: ignore[no-untyped-def]
    from telcamp.core import warehouse

    with warehouse.connect() as con:
        # 30 subscribers in county C01-01 (city C01), 70 in C02-01 (city C02)
        con.execute(
            "CREATE TABLE profile AS SELECT 79000000000 + i AS msisdn, "
            "CASE WHEN i < 30 THEN 'C01-01' ELSE 'C02-01' END AS region_code, "
            "CASE WHEN i < 30 THEN 'C01' ELSE 'C02' END AS city_code, 'P01' AS province_code, "
            "CASE WHEN i % 2 = 0 THEN 'high' ELSE 'low' END AS value_tier, "
            "0.5 AS churn_risk FROM range(100) t(i)"
        )
        con.execute(
            "INSERT INTO subscribers SELECT msisdn, region_code, 'T1', DATE '2020-01-01', "
            "'active', NULL, 'u', 'ru', NULL, NULL FROM profile"
        )
    city = login("analyst", "C01").get("/")
    whole = login("analyst").get("/")
    assert city.status_code == whole.status_code == 200
    assert 'data-testid="subscribers">30<' in city.text
    assert 'data-testid="tier-high">15<' in city.text
    assert 'data-testid="subscribers">100<' in whole.text


def test_home_at_the_top_region_shows_operator_wide_tables(login, test_regions) -> None:  # type: ignore[no-untyped-def]
    from telcamp.core import warehouse

    with warehouse.connect() as con:
        con.execute(
            "CREATE TABLE profile AS SELECT 79000000000 + i AS msisdn, 'C01-01' AS region_code, "
            "'C01' AS city_code, 'P01' AS province_code, 'low' AS value_tier, "
            "0.1 AS churn_risk FROM range(10) t(i)"
        )
        con.execute(
            "INSERT INTO payments SELECT msisdn, TIMESTAMPTZ '2026-11-01 10:00:00+00', 5.0, "
            "'recharge' FROM profile"
        )
    province = login("analyst", "P01").get("/")
    city = login("analyst", "C01").get("/")
    # the province is the top of the tree: it sees every table, the city only its subscribers
    assert 'data-testid="payments">10<' in province.text
    assert 'data-testid="payments"' not in city.text
