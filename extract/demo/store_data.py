"""The demo new store's records, each a pure function of ``(seed, id)`` (carts also of scale).

Per unit of scale: 200 products, 1,000 users, 10,000 carts (scale 100 = 1,000,000 carts).
Shapes are FakeStore's (https://fakestoreapi.com/docs):

- product: ``id, title, price, description, category, image, rating{rate, count}``
- user: ``id, email, username, password, name{firstname, lastname},
  address{city, street, number, zipcode, geolocation{lat, long}}, phone, __v``
  (lat/long are strings, as in FakeStore)
- cart: ``id, userId, date, products[{productId, quantity}], __v`` with ``date`` like
  ``2025-03-02T06:18:43.000Z``

Arithmetic that keeps every lookup cheap at any scale:

- product ``i`` has category ``CATEGORIES[(i - 1) % 4]``, so a category is an id range;
- cart dates are non-decreasing with the id and spread evenly over the 12 months ending at
  ``DEMO_END_DATE``, so a date window is an id range found by binary search;
- cart ``i`` belongs to user ``perm(i - 1) % users + 1`` where ``perm`` is an affine
  bijection of ``[0, carts)``; inverting it lists a user's carts without scanning.
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
from collections.abc import Sequence
from typing import Any

from extract.demo import DEMO_END_DATE, DEMO_START_DATE, check_scale
from extract.demo.rng import Rng

CATEGORIES = ("electronics", "jewelery", "men's clothing", "women's clothing")
PER_SCALE = {"products": 200, "users": 1_000, "carts": 10_000}
MAX_PRODUCTS_PER_CART = 4
MAX_QUANTITY = 5
IMAGE_BASE = "https://img.deltastore.example/products"

_PRODUCT, _USER, _CART, _PERM = 1, 2, 3, 4
_EPOCH = dt.datetime(DEMO_START_DATE.year, DEMO_START_DATE.month, DEMO_START_DATE.day)
_SPAN_SECONDS = ((DEMO_END_DATE - DEMO_START_DATE).days + 1) * 86_400

_NOUNS = {
    "electronics": ("SSD", "Monitor", "Wireless Headphones", "External Hard Drive",
                    "Mechanical Keyboard", "USB-C Hub", "Bluetooth Speaker"),
    "jewelery": ("Ring", "Bracelet", "Necklace", "Stud Earrings", "Pendant", "Bangle"),
    "men's clothing": ("Jacket", "Casual T-Shirt", "Backpack", "Slim Fit Jeans", "Hoodie"),
    "women's clothing": ("Rain Jacket", "Blouse", "Moto Biker Jacket", "Short Sleeve Top",
                         "Knit Cardigan"),
}
_PRICE_RANGE = {"electronics": (9.99, 999.99), "jewelery": (6.99, 699.99),
                "men's clothing": (7.99, 119.99), "women's clothing": (7.99, 99.99)}
_BRANDS = ("Acme", "Northwind", "Fjall", "Lumen", "Orbit", "Sable", "Tidewater", "Vega")
_ADJECTIVES = ("Classic", "Premium", "Everyday", "Ultra", "Vintage", "Lightweight", "Pro",
               "Essential")
_MATERIALS = ("cotton", "recycled polyester", "stainless steel", "sterling silver",
              "aluminium", "leather", "wool blend")
_FIRST = ("john", "david", "kevin", "don", "derek", "david", "miriam", "william", "kate",
          "jimmie", "maria", "lena", "omar", "priya", "sofia", "li", "ana", "tom", "nina",
          "amir")
_LAST = ("doe", "morrison", "ryan", "romer", "powell", "russell", "snyder", "hopkins",
         "hale", "klein", "garcia", "novak", "haddad", "patel", "rossi", "chen", "silva",
         "brown", "berg", "karimi")
_CITIES = ("kilcoole", "cullman", "san antonio", "el paso", "fresno", "mesa", "miami",
           "fort wayne", "omaha", "tucson")
_STREETS = ("new road", "lovers ln", "frances ct", "hunters creek dr", "adams st",
            "prospect st", "saddle st", "vally view ln", "avondale ave", "oak lawn ave")
_PASSWORD_CHARS = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789$#@!"


def counts(scale: float) -> dict[str, int]:
    """Records per kind at ``scale`` (at least one of each, and one product per category)."""
    scale = check_scale(scale)
    return {
        "products": max(len(CATEGORIES), round(PER_SCALE["products"] * scale)),
        "users": max(1, round(PER_SCALE["users"] * scale)),
        "carts": max(1, round(PER_SCALE["carts"] * scale)),
    }


def product(i: int, seed: int = 42) -> dict[str, Any]:
    """Product ``i`` (1-based) as FakeStore serves it."""
    rng = Rng(seed, _PRODUCT, i)
    category = CATEGORIES[(i - 1) % len(CATEGORIES)]
    noun = rng.choice(_NOUNS[category])
    low, high = _PRICE_RANGE[category]
    return {
        "id": i,
        "title": f"{rng.choice(_BRANDS)} {rng.choice(_ADJECTIVES)} {noun}",
        "price": round(rng.uniform(low, high), 2),
        "description": (f"A {rng.choice(_ADJECTIVES).lower()} {noun.lower()} made of "
                        f"{rng.choice(_MATERIALS)}, built for everyday use."),
        "category": category,
        "image": f"{IMAGE_BASE}/{i}.jpg",
        "rating": {"rate": round(rng.uniform(1.0, 5.0), 1), "count": rng.randint(0, 700)},
    }


def user(i: int, seed: int = 42) -> dict[str, Any]:
    """User ``i`` (1-based) as FakeStore serves it (including its fake password)."""
    rng = Rng(seed, _USER, i)
    first, last = rng.choice(_FIRST), rng.choice(_LAST)
    password = "".join(rng.choice(_PASSWORD_CHARS) for _ in range(8))
    return {
        "id": i,
        "email": f"{first}.{last}{i}@example.com",
        "username": f"{first}{last[0]}{i}",
        "password": password,
        "name": {"firstname": first, "lastname": last},
        "address": {
            "city": rng.choice(_CITIES),
            "street": rng.choice(_STREETS),
            "number": rng.randint(1, 9999),
            "zipcode": f"{rng.randint(10000, 99999)}-{rng.randint(1000, 9999)}",
            "geolocation": {"lat": f"{rng.uniform(-90, 90):.4f}",
                            "long": f"{rng.uniform(-180, 180):.4f}"},
        },
        "phone": f"1-{rng.randint(200, 999)}-{rng.randint(200, 999)}-{rng.randint(0, 9999):04d}",
        "__v": 0,
    }


def cart(i: int, seed: int = 42, scale: float = 1) -> dict[str, Any]:
    """Cart ``i`` (1-based) at ``scale``; its user and products exist at that scale."""
    return StoreData(scale, seed).cart(i)


def format_timestamp(moment: dt.datetime) -> str:
    """FakeStore's timestamp form: ``2025-03-02T00:00:00.000Z`` (UTC)."""
    return moment.isoformat(timespec="seconds") + ".000Z"


class StoreData:
    """All records at one ``(scale, seed)``, with the cheap lookups the server needs."""

    def __init__(self, scale: float = 1, seed: int = 42) -> None:
        self.scale = check_scale(scale)
        self.seed = int(seed)
        self.counts = counts(self.scale)
        self.products = self.counts["products"]
        self.users = self.counts["users"]
        self.carts = self.counts["carts"]
        # perm(p) = (a * p + b) mod carts, a coprime with carts so it is a bijection.
        n = self.carts
        a = max(1, int(n * 0.6180339887))
        while math.gcd(a, n) != 1:
            a += 1
        self._a = a % n if n > 1 else 0
        self._a_inverse = pow(self._a, -1, n) if n > 1 else 0
        self._b = Rng(self.seed, _PERM, 0).next64() % n

    def product(self, i: int) -> dict[str, Any]:
        return product(i, self.seed)

    def user(self, i: int) -> dict[str, Any]:
        return user(i, self.seed)

    def cart_time(self, i: int) -> dt.datetime:
        """Non-decreasing in ``i``; carts 1..n cover the demo year evenly."""
        return _EPOCH + dt.timedelta(seconds=(i - 1) * _SPAN_SECONDS // self.carts)

    def cart_user(self, i: int) -> int:
        return (self._a * (i - 1) + self._b) % self.carts % self.users + 1

    def cart(self, i: int) -> dict[str, Any]:
        rng = Rng(self.seed, _CART, i)
        k = rng.randint(1, min(MAX_PRODUCTS_PER_CART, self.products))
        return {
            "id": i,
            "userId": self.cart_user(i),
            "date": format_timestamp(self.cart_time(i)),
            "products": [{"productId": p, "quantity": rng.randint(1, MAX_QUANTITY)}
                         for p in rng.distinct(self.products, k)],
            "__v": 0,
        }

    def product_ids_in_category(self, category: str) -> Sequence[int]:
        if category not in CATEGORIES:
            return range(0)
        return range(CATEGORIES.index(category) + 1, self.products + 1, len(CATEGORIES))

    def cart_ids_between(self, start: dt.datetime | None, end: dt.datetime | None) -> range:
        """Ids of carts with ``start <= date < end`` (FakeStore's rule: end is exclusive)."""
        ids = range(1, self.carts + 1)
        first = 1 if start is None else 1 + bisect.bisect_left(ids, start, key=self.cart_time)
        stop = self.carts + 1 if end is None else 1 + bisect.bisect_left(
            ids, end, key=self.cart_time)
        return range(first, max(first, stop))

    def cart_ids_of_user(self, user_id: int) -> list[int]:
        """Ids of the user's carts, ascending; O(carts per user)."""
        if not 1 <= user_id <= self.users:
            return []
        ids = [
            (self._a_inverse * (q - self._b)) % self.carts + 1
            for q in range(user_id - 1, self.carts, self.users)
        ]
        return sorted(ids)
