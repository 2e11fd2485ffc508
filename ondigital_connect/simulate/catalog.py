"""The shop's fixed world: markets, exchange rates, campaigns, products and stock locations."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from ondigital_connect.simulate.model import Campaign, Market, SimProduct
from ondigital_connect.simulate.rng import draw, mix64, stream_key, unit

MARKETS = (
    Market("SE", "SEK", Decimal("0.25"), 0.55, Decimal("49.00")),
    Market("NO", "NOK", Decimal("0.25"), 0.20, Decimal("69.00")),
    Market("DK", "DKK", Decimal("0.25"), 0.13, Decimal("39.00")),
    Market("FI", "EUR", Decimal("0.255"), 0.12, Decimal("4.95")),
)
# Free shipping from this goods subtotal (incl. VAT), in the market's currency, in cents.
FREE_SHIPPING_CENTS = {"SE": 59_900, "NO": 59_900, "DK": 39_900, "FI": 5_900}
# Realistic levels in SEK per unit; daily rates drift a few per cent around them.
FX_LEVELS_MICRO = {"SEK": 1_000_000, "NOK": 980_000, "DKK": 1_550_000, "EUR": 11_500_000}
_FX_ANCHOR_DAYS = 30

CAMPAIGNS = (
    Campaign("google", "cpc", "brand_search", "", "gclid", 0.10),
    Campaign("google", "cpc", "generic_search", "collections/new-arrivals", "gclid", 0.07),
    Campaign("google", "cpc", "shopping_pmax", "collections/all", "gclid", 0.11),
    Campaign("facebook", "paid_social", "prospecting_broad", "collections/bestsellers",
             "fbclid", 0.08),
    Campaign("instagram", "paid_social", "retargeting_dpa", "collections/bestsellers",
             "fbclid", 0.05),
    Campaign("tiktok", "paid_social", "spark_ads_creators", "pages/as-seen-on-tiktok",
             "ttclid", 0.03),
    Campaign("bing", "cpc", "bing_brand", "", "msclkid", 0.02),
    Campaign("newsletter", "email", "weekly_newsletter", "collections/this-week", None, 0.07),
    Campaign("google", "organic", "(organic)", "", None, 0.21),
    Campaign("(direct)", "(none)", "(direct)", "", None, 0.17),
    Campaign("prisjakt", "price_comparison", "prisjakt_feed", "collections/all", None, 0.05),
    Campaign("adtraction", "affiliate", "adtraction_network", "", None, 0.04),
)
NO_UTM_MEDIUMS = frozenset({"organic", "(none)"})  # channels that carry no UTM parameters
REFERRERS = {
    ("google", "cpc"): "https://www.google.com/",
    ("google", "organic"): "https://www.google.com/",
    ("facebook", "paid_social"): "https://l.facebook.com/",
    ("instagram", "paid_social"): "https://l.instagram.com/",
    ("tiktok", "paid_social"): "https://www.tiktok.com/",
    ("bing", "cpc"): "https://www.bing.com/",
    ("prisjakt", "price_comparison"): "https://www.prisjakt.nu/",
    ("adtraction", "affiliate"): "https://track.adtraction.com/",
}
LOCATION_NAMES = ("Stockholm Warehouse", "Göteborg Store", "Malmö Store", "Oslo Pickup",
                  "Copenhagen Pickup", "Helsinki Pickup")


@dataclass(frozen=True, slots=True)
class Category:
    """A product category: price range in whole SEK incl. VAT and its variant options."""

    name: str
    code: str
    min_price: int
    max_price: int
    options: tuple[str, ...]
    nouns: tuple[str, ...]


CATEGORIES = (
    Category("Shoes", "SHO", 599, 1999, ("38", "40", "42", "44"), ("Sneaker", "Boot", "Loafer")),
    Category("Outerwear", "OUT", 999, 2999, ("S", "M", "L", "XL"), ("Parka", "Shell Jacket")),
    Category("Knitwear", "KNI", 499, 1499, ("S", "M", "L"), ("Sweater", "Cardigan")),
    Category("Trousers", "TRO", 399, 1299, ("S", "M", "L"), ("Chinos", "Jeans", "Joggers")),
    Category("Accessories", "ACC", 99, 499, ("One size",), ("Beanie", "Scarf", "Gloves")),
    Category("Bags", "BAG", 299, 1799, ("Black", "Brown"), ("Tote", "Backpack")),
    Category("Home", "HOM", 149, 899, ("One size",), ("Candle Holder", "Throw", "Vase")),
    Category("Beauty", "BEA", 99, 399, ("50 ml", "100 ml"), ("Hand Cream", "Body Lotion")),
)
BRANDS = ("Fjällvik", "Nordkap", "Havsbris", "Ljung & Co", "Kvist", "Skog Studio", "Myr",
          "Vinterö")
ADJECTIVES = ("Classic", "Merino", "Everyday", "Arctic", "Soft", "Urban", "Coastal", "Linen")
_STREAM_PRODUCTS = 201
_STREAM_FX = 202


def fx_to_sek_micro(currency: str, ordinal: int) -> int:
    """SEK per unit of ``currency`` on a day (by ordinal), in millionths; seed-independent."""
    level = FX_LEVELS_MICRO[currency]
    if currency == "SEK":
        return level
    key = stream_key(sum(map(ord, currency)), _STREAM_FX)
    anchor, rest = divmod(ordinal, _FX_ANCHOR_DAYS)
    lo = (draw(key, 2 * anchor) >> 44) % 60_001 - 30_000  # +-3 % every 30 days
    hi = (draw(key, 2 * anchor + 2) >> 44) % 60_001 - 30_000
    daily = (draw(key, 2 * ordinal + 1) >> 44) % 3_001 - 1_500  # +-0.15 % day to day
    ppm = lo + (hi - lo) * rest // _FX_ANCHOR_DAYS + daily
    return level * (1_000_000 + ppm) // 1_000_000


def nice_price_cents(sek: int, currency: str) -> int:
    """A market's list price for a SEK price: x9 endings in crowns, x.95 in euro."""
    value = sek * 1_000_000 / FX_LEVELS_MICRO[currency]
    if currency == "SEK":
        return sek * 100
    if currency == "EUR":
        return max(95, round(value) * 100 - 5)
    return max(900, (round(value / 10) * 10 - 1) * 100)


def _price(category: Category, u: float) -> int:
    """A whole-SEK price in the category's range, ending in 49 or 99."""
    raw = category.min_price + u * (category.max_price - category.min_price)
    return min(2999, max(99, round((raw + 1) / 50) * 50 - 1))


def _status(h: int) -> str:
    """Mostly active; a few archived and drafts."""
    r = h % 100
    return "DRAFT" if r < 2 else "ARCHIVED" if r < 7 else "ACTIVE"


def build_products(seed: int, n_variants: int, start: dt.datetime, now: dt.datetime,
                   shop_currency: str) -> tuple[tuple[SimProduct, ...], list[int]]:
    """``n_variants`` variants over the categories, and each one's base price in whole SEK."""
    key = stream_key(seed, _STREAM_PRODUCTS)
    variants: list[SimProduct] = []
    base_sek: list[int] = []
    p = 0
    while len(variants) < n_variants:
        h1, h2 = draw(key, 2 * p), draw(key, 2 * p + 1)
        cat = CATEGORIES[p % len(CATEGORIES)]
        price_sek = _price(cat, unit(h1))
        status = "ACTIVE" if p == 0 else _status(h2)
        created = start - dt.timedelta(days=30 + h2 % 700, seconds=(h1 >> 20) % 86_400)
        brand = BRANDS[(h1 >> 8) % len(BRANDS)]
        title = (f"{brand} {ADJECTIVES[(h1 >> 12) % len(ADJECTIVES)]}"
                 f" {cat.nouns[(h1 >> 16) % len(cat.nouns)]}")
        n_opts = 1 + (h2 >> 8) % len(cat.options)
        for k in range(min(n_opts, n_variants - len(variants))):
            v = len(variants)
            hv = mix64(h2 ^ (v + 1))
            price = nice_price_cents(price_sek, shop_currency)
            variants.append(_variant(p, v, k, cat, (brand, title), price, status, hv, created,
                                     now))
            base_sek.append(price_sek)
        p += 1
    return tuple(variants), base_sek


def _variant(p: int, v: int, k: int, cat: Category, names: tuple[str, str], price_cents: int,
             status: str, hv: int, created: dt.datetime, now: dt.datetime) -> SimProduct:
    """One variant: shop price, unit cost 30-60 % of the ex-VAT price, stock."""
    brand, title = names
    ex_vat = price_cents * 100 // 125
    cost = ex_vat * (30 + hv % 31) // 100
    stock = 0 if status == "ARCHIVED" or (hv >> 8) % 20 == 0 else 5 + (hv >> 16) % 300
    span = max(1, int((now - created).total_seconds()))
    return SimProduct(
        product_id=8_000_000_000 + p, variant_id=9_000_000_000 + v,
        inventory_item_id=7_000_000_000 + v, sku=f"{cat.code}-{p:04d}-{k + 1}",
        title=title, variant_title=cat.options[k], category=cat.name,
        brand=brand,
        price_shop=Decimal(price_cents).scaleb(-2), unit_cost_shop=Decimal(cost).scaleb(-2),
        stock=stock, created_at=created,
        updated_at=created + dt.timedelta(seconds=(hv >> 24) % span), status=status,
    )


def popularity(products: tuple[SimProduct, ...], seed: int) -> list[float]:
    """Zipf-like sales weights over a seeded ranking; drafts never sell, archived rarely."""
    key = stream_key(seed, _STREAM_PRODUCTS + 1)
    order = sorted(range(len(products)), key=lambda i: draw(key, i))
    rank = {i: r for r, i in enumerate(order)}
    factor = {"ACTIVE": 1.0, "ARCHIVED": 0.15, "DRAFT": 0.0}
    return [factor[p.status] / (rank[i] + 4) ** 0.9 for i, p in enumerate(products)]


def split_stock(stock: int, n_locations: int, h: int) -> list[int]:
    """Split a variant's stock over locations: the first (the warehouse) holds most."""
    if n_locations == 1:
        return [stock]
    main = stock * (60 + h % 25) // 100
    rest = stock - main
    parts = [main]
    for k in range(1, n_locations):
        share = rest if k == n_locations - 1 else rest * ((h >> (8 * k)) % 60) // 100
        parts.append(share)
        rest -= share
    return parts


def locations(n: int) -> tuple[tuple[int, str], ...]:
    """``n`` stock locations, the first being the central warehouse."""
    return tuple(
        (70_000_000_000 + k, LOCATION_NAMES[k] if k < len(LOCATION_NAMES) else f"Location {k + 1}")
        for k in range(n)
    )
