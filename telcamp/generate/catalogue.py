"""The operator's fixed reference data: region tree, tariff catalogue, products.

Everything here is static (no randomness), so regions.* and tariffs.* are identical for
every seed; the per-subscriber randomness lives in population.py and usage.py.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PROVINCE = ("P01", "Объединённый макрорегион", "Europe/Moscow")


@dataclass(frozen=True)
class City:
    code: str
    name: str
    timezone: str
    weight: float  # share of the subscriber base (bigger cities, more subscribers)
    counties: tuple[str, ...]
    # language mix of the city's subscribers: (code, probability); sums to 1
    languages: tuple[tuple[str, float], ...]


_RU = (("ru", 0.93), ("en", 0.03), ("zh", 0.01), ("uz", 0.015), ("kk", 0.01), ("de", 0.005))

CITIES: tuple[City, ...] = (
    City("C01", "Москва", "Europe/Moscow", 0.26,
         ("Центральный округ", "Северный округ", "Южный округ", "Западный округ"),
         (("ru", 0.90), ("en", 0.05), ("zh", 0.02), ("uz", 0.02), ("hy", 0.01))),
    City("C02", "Санкт-Петербург", "Europe/Moscow", 0.15,
         ("Адмиралтейский район", "Василеостровский район", "Выборгский район",
          "Калининский район"), _RU),
    City("C03", "Казань", "Europe/Moscow", 0.07,
         ("Вахитовский район", "Приволжский район", "Советский район",
          "Ново-Савиновский район"),
         (("ru", 0.80), ("tt", 0.15), ("en", 0.03), ("zh", 0.01), ("uz", 0.01))),
    City("C04", "Самара", "Europe/Samara", 0.06,
         ("Ленинский район", "Октябрьский район", "Промышленный район", "Кировский район"),
         _RU),
    City("C05", "Екатеринбург", "Asia/Yekaterinburg", 0.09,
         ("Ленинский район", "Кировский район", "Верх-Исетский район",
          "Орджоникидзевский район"), _RU),
    City("C06", "Челябинск", "Asia/Yekaterinburg", 0.06,
         ("Центральный район", "Калининский район", "Курчатовский район",
          "Тракторозаводский район"),
         (("ru", 0.90), ("kk", 0.04), ("en", 0.02), ("tt", 0.03), ("zh", 0.01))),
    City("C07", "Новосибирск", "Asia/Novosibirsk", 0.09,
         ("Центральный район", "Ленинский район", "Октябрьский район", "Советский район"),
         _RU),
    City("C08", "Омск", "Asia/Omsk", 0.05,
         ("Центральный округ", "Ленинский округ", "Кировский округ", "Советский округ"),
         (("ru", 0.90), ("kk", 0.06), ("en", 0.02), ("de", 0.02))),
    City("C09", "Красноярск", "Asia/Krasnoyarsk", 0.06,
         ("Центральный район", "Железнодорожный район", "Октябрьский район",
          "Свердловский район"), _RU),
    City("C10", "哈尔滨", "Asia/Shanghai", 0.11,
         ("道里区", "南岗区", "道外区", "香坊区"),
         (("zh", 0.85), ("ru", 0.10), ("en", 0.05))),
)
# Inside a city, the first county is the largest (city centres are denser).
COUNTY_WEIGHTS = (0.34, 0.26, 0.22, 0.18)


def county_codes() -> list[str]:
    return [f"{c.code}-{i + 1:02d}" for c in CITIES for i in range(len(c.counties))]


def county_weights() -> np.ndarray:
    w = np.array([c.weight * cw for c in CITIES for cw in COUNTY_WEIGHTS[: len(c.counties)]])
    return np.asarray(w / w.sum(), dtype=np.float64)


def county_city_index() -> np.ndarray:
    return np.array([ci for ci, c in enumerate(CITIES) for _ in c.counties], dtype=np.int16)


def county_timezones() -> list[str]:
    return [c.timezone for c in CITIES for _ in c.counties]


def region_rows() -> list[dict[str, str | None]]:
    code, name, tz = PROVINCE
    rows: list[dict[str, str | None]] = [
        {"code": code, "name": name, "parent_code": None, "level": "province", "timezone": tz}
    ]
    for c in CITIES:
        rows.append({"code": c.code, "name": c.name, "parent_code": code, "level": "city",
                     "timezone": c.timezone})
    for c in CITIES:
        for i, county in enumerate(c.counties):
            rows.append({"code": f"{c.code}-{i + 1:02d}", "name": county,
                         "parent_code": c.code, "level": "county", "timezone": c.timezone})
    return rows


LANGUAGES: tuple[str, ...] = ("ru", "zh", "en", "tt", "uz", "kk", "hy", "de")


def city_language_matrix() -> np.ndarray:
    """P(language | city), rows = cities, columns = LANGUAGES."""
    m = np.zeros((len(CITIES), len(LANGUAGES)))
    for ci, c in enumerate(CITIES):
        for lang, p in c.languages:
            m[ci, LANGUAGES.index(lang)] = p
    return np.asarray(m / m.sum(axis=1, keepdims=True), dtype=np.float64)


@dataclass(frozen=True)
class Tariff:
    code: str
    name: str
    payment_type: str
    monthly_fee: float
    data_mult: float  # how much mobile data its users consume, relative to 1
    voice_mult: float  # how much they talk
    price_min: float  # charge per minute of outgoing voice beyond the bundle
    price_mb: float  # charge per MB beyond the bundle
    bundle_share: float  # share of records inside the bundle (charged 0)


TARIFFS: tuple[Tariff, ...] = (
    Tariff("PRE_BASIC", "Базовый", "prepaid", 0.0, 0.5, 0.9, 2.5, 0.10, 0.0),
    Tariff("PRE_S", "Смарт S", "prepaid", 350.0, 0.8, 0.9, 2.0, 0.08, 0.75),
    Tariff("PRE_M", "Смарт M", "prepaid", 550.0, 1.2, 1.0, 1.8, 0.06, 0.85),
    Tariff("PRE_L", "Смарт L", "prepaid", 850.0, 1.8, 1.2, 1.5, 0.05, 0.92),
    Tariff("PRE_YOUTH", "Молодёжный", "prepaid", 300.0, 2.0, 0.6, 2.0, 0.05, 0.85),
    Tariff("PRE_SENIOR", "Пенсионный", "prepaid", 150.0, 0.3, 1.4, 1.0, 0.12, 0.70),
    Tariff("PRE_DATA", "Интернет для устройств", "prepaid", 600.0, 3.0, 0.0, 3.0, 0.04, 0.90),
    Tariff("POST_FAMILY", "Семейный", "postpaid", 950.0, 1.4, 1.3, 1.5, 0.05, 0.90),
    Tariff("POST_BUSINESS", "Бизнес", "postpaid", 1400.0, 1.6, 1.8, 1.2, 0.04, 0.92),
    Tariff("POST_PREMIUM", "Премиум", "postpaid", 2600.0, 2.5, 2.0, 1.0, 0.03, 0.97),
)
TARIFF_INDEX = {t.code: i for i, t in enumerate(TARIFFS)}


def tariff_rows() -> list[dict[str, str | float]]:
    return [{"code": t.code, "name": t.name, "payment_type": t.payment_type,
             "monthly_fee": t.monthly_fee} for t in TARIFFS]


def tariff_array(attr: str) -> np.ndarray:
    return np.array([getattr(t, attr) for t in TARIFFS], dtype=np.float64)


DEVICES: tuple[str, ...] = ("smartphone", "feature", "tablet", "modem", "wearable")
# Relative usage volumes per device: (records, data volume, voice share factor)
DEVICE_ACTIVITY = np.array([1.0, 0.55, 0.7, 0.9, 0.6])
DEVICE_DATA = np.array([1.0, 0.03, 2.2, 4.0, 0.3])

GENDERS: tuple[str, ...] = ("m", "f", "u")
STATUSES: tuple[str, ...] = ("active", "suspended", "churned")
SERVICES: tuple[str, ...] = ("voice", "sms", "mms", "data", "ringback", "vas")
DIRECTIONS: tuple[str, ...] = ("out", "in")

PRODUCTS: tuple[tuple[str, float], ...] = (  # (product code, popularity)
    ("DATA_5GB", 0.22), ("DATA_UNLIM_NIGHT", 0.08), ("ROAMING_PACK", 0.06),
    ("MUSIC", 0.12), ("VIDEO_TV", 0.10), ("RINGBACK_TONE", 0.09), ("ANTISPAM", 0.11),
    ("CLOUD_50GB", 0.07), ("INTL_MINUTES", 0.06), ("FAMILY_SHARE", 0.05), ("CASHBACK", 0.04),
)
PRODUCT_CHANNELS: tuple[tuple[str, float], ...] = (
    ("app", 0.42), ("web", 0.15), ("ussd", 0.14), ("sms", 0.10), ("store", 0.12),
    ("call_centre", 0.07),
)
EMAIL_DOMAINS_RU: tuple[str, ...] = ("mail.ru", "yandex.ru", "gmail.com", "bk.ru", "rambler.ru")
EMAIL_DOMAINS_ZH: tuple[str, ...] = ("qq.com", "163.com", "126.com", "gmail.com", "sina.com")
RECHARGE_AMOUNTS = np.array([100.0, 150.0, 200.0, 300.0, 500.0, 700.0, 1000.0, 1500.0])
