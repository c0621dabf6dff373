"""The demo new store's records, each a pure function of ``(seed, id)`` (carts also of scale).

Per unit of scale: 200 products, 1,000 users, 10,000 carts (scale 100 = 1,000,000 carts).
Shapes are FakeStore's (https://fakestoreapi.com/docs):

- product: ``id, title, price, description, category, image, rating{rate, count}``
- user: ``id, email, username, password, name{firstname, lastname},
  address{city, street, number, zipcode, geolocation{lat, long}}, phone, __v``
  (lat/long are strings, as in FakeStore)
- cart: ``id, userId, date, products[{productId, quantity}], __v`` with ``date`` like
  ``2025-03-02T06:18:43.000Z``

Lists are served as JSON text made straight from templates (``carts_json`` and friends),
never as dicts run through ``json.dumps``; the dict functions give the same records. A
cart draws all its random numbers from one 128-bit hash (``rng.hash_bits``), products and
users from a splitmix64 stream each (``rng.draws``).

Shapes: categories differ in price range (``_PRICE_RANGE``) and in published rating
(``_RATING_RANGE``: jewelry and electronics rate lower than clothing). Users have no sign-up
date or address in FakeStore's dialect, so every user orders all year round.

Arithmetic that keeps every lookup cheap at any scale:

- product ``i`` has category ``CATEGORIES[(i - 1) % 4]``, so a category is an id range;
- cart dates are non-decreasing with the id and follow the web store's year over the 12
  months ending at ``DEMO_END_DATE`` (``seasons``: 5 % growth a month, the Q4 peak), so a
  date window is an id range found by binary search;
- cart ``i`` belongs to user ``shuffle(i - 1) % users + 1`` where ``shuffle`` is a keyed
  bijection of ``[0, carts)`` (``Shuffle``); inverting it lists a user's carts without
  scanning. Each user's carts fall at random moments of the year, as one would expect of
  shoppers (an affine bijection made every user order in the same rhythm).
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from deltastore.extract.demo import DEMO_END_DATE, DEMO_START_DATE, check_scale
from deltastore.extract.demo.rng import draws, hash_bits, unit
from deltastore.extract.demo.seasons import Calendar, day_weights

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
# The rating the API publishes for a product is drawn from its category's range.
_RATING_RANGE = {"electronics": (1.8, 4.8), "jewelery": (1.2, 4.4),
                 "men's clothing": (2.6, 5.0), "women's clothing": (2.9, 5.0)}
# The web store's carts over the demo year: it grows faster than the legacy shop.
_CART_GROWTH = 0.05
_CARTS = Calendar(day_weights(_CART_GROWTH))
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
    (ident, title, price, description, category, image, rate, count) = _product_fields(i, seed)
    return {"id": ident, "title": title, "price": price, "description": description,
            "category": category, "image": image, "rating": {"rate": rate, "count": count}}


def user(i: int, seed: int = 42) -> dict[str, Any]:
    """User ``i`` (1-based) as FakeStore serves it (including its fake password)."""
    (ident, email, username, password, first, last, city, street, number, zipcode, lat, long,
     phone) = _user_fields(i, seed)
    return {
        "id": ident,
        "email": email,
        "username": username,
        "password": password,
        "name": {"firstname": first, "lastname": last},
        "address": {"city": city, "street": street, "number": number, "zipcode": zipcode,
                    "geolocation": {"lat": lat, "long": long}},
        "phone": phone,
        "__v": 0,
    }


def cart(i: int, seed: int = 42, scale: float = 1) -> dict[str, Any]:
    """Cart ``i`` (1-based) at ``scale``; its user and products exist at that scale."""
    return StoreData(scale, seed).cart(i)


def format_timestamp(moment: dt.datetime) -> str:
    """FakeStore's timestamp form: ``2025-03-02T00:00:00.000Z`` (UTC)."""
    return moment.isoformat(timespec="seconds") + ".000Z"


# -- record fields -------------------------------------------------------------------------
# Each record is drawn once into a tuple of its values in JSON order; the dict functions
# above and the JSON templates below both read that tuple, so they cannot disagree.
# `items[draw() % len(items)]` is `Rng.choice`, `low + draw() % n` is `Rng.randint` and
# `low + (high - low) * unit(draw())` is `Rng.uniform`: the same numbers, minus the calls.

def _product_fields(i: int, seed: int) -> tuple[Any, ...]:
    draw = draws(seed, _PRODUCT, i).__next__
    category = CATEGORIES[(i - 1) % len(CATEGORIES)]
    nouns = _NOUNS[category]
    noun = nouns[draw() % len(nouns)]
    low, high = _PRICE_RANGE[category]
    title = f"{_BRANDS[draw() % len(_BRANDS)]} {_ADJECTIVES[draw() % len(_ADJECTIVES)]} {noun}"
    price = round(low + (high - low) * unit(draw()), 2)
    description = (f"A {_ADJECTIVES[draw() % len(_ADJECTIVES)].lower()} {noun.lower()} made of "
                   f"{_MATERIALS[draw() % len(_MATERIALS)]}, built for everyday use.")
    low_rate, high_rate = _RATING_RANGE[category]
    rate = round(low_rate + (high_rate - low_rate) * unit(draw()), 1)
    count = draw() % 701
    return (i, title, price, description, category, f"{IMAGE_BASE}/{i}.jpg", rate, count)


def _user_fields(i: int, seed: int) -> tuple[Any, ...]:
    draw = draws(seed, _USER, i).__next__
    first = _FIRST[draw() % len(_FIRST)]
    last = _LAST[draw() % len(_LAST)]
    password = "".join([_PASSWORD_CHARS[draw() % len(_PASSWORD_CHARS)] for _ in range(8)])
    city = _CITIES[draw() % len(_CITIES)]
    street = _STREETS[draw() % len(_STREETS)]
    number = 1 + draw() % 9999
    zipcode = f"{10000 + draw() % 90000}-{1000 + draw() % 9000}"
    lat = f"{-90 + 180 * unit(draw()):.4f}"
    long = f"{-180 + 360 * unit(draw()):.4f}"
    phone = f"1-{200 + draw() % 800}-{200 + draw() % 800}-{draw() % 10000:04d}"
    return (i, f"{first}.{last}{i}@example.com", f"{first}{last[0]}{i}", password, first, last,
            city, street, number, zipcode, lat, long, phone)


# JSON text templates, byte for byte what `json.dumps(record, separators=(",", ":"))` gives
# for the dicts above. Every string in them comes from the fixed word lists of this module,
# none of which holds a character JSON must escape, so `%s` needs no escaping; floats go
# through `%r`, which is how `json.dumps` writes them too.
_PRODUCT_JSON = ('{"id":%d,"title":"%s","price":%r,"description":"%s","category":"%s",'
                 '"image":"%s","rating":{"rate":%r,"count":%d}}')
_USER_JSON = ('{"id":%d,"email":"%s","username":"%s","password":"%s",'
              '"name":{"firstname":"%s","lastname":"%s"},'
              '"address":{"city":"%s","street":"%s","number":%d,"zipcode":"%s",'
              '"geolocation":{"lat":"%s","long":"%s"}},"phone":"%s","__v":0}')
_CART_LINE_JSON = '{"productId":%d,"quantity":%d}'
# Indexed by the number of products in the cart.
_CART_JSON = tuple(
    '{"id":%d,"userId":%d,"date":"%s","products":[' + ",".join([_CART_LINE_JSON] * k)
    + '],"__v":0}'
    for k in range(MAX_PRODUCTS_PER_CART + 1)
)
# Cart timestamps are formatted from these: datetime arithmetic and isoformat would be
# about a third of a cart's cost.
_DAY_PREFIXES = tuple(
    (DEMO_START_DATE + dt.timedelta(days=d)).isoformat() + "T"
    for d in range(_SPAN_SECONDS // 86_400)
)
_MINUTE_PREFIXES = tuple(f"{m // 60:02d}:{m % 60:02d}:" for m in range(24 * 60))
_TWO_DIGITS = tuple(f"{n:02d}" for n in range(60))


class Shuffle:
    """A keyed bijection of ``[0, n)`` and its inverse.

    Two rounds of multiply-add and xorshift on ``bits``-bit integers (each a bijection of
    ``[0, 2**bits)``), repeated while the value is ``n`` or more (cycle walking, under two
    passes on average since ``2**bits < 2n``).
    """

    def __init__(self, n: int, seed: int) -> None:
        self.n = n
        self.bits = max(1, (n - 1).bit_length())
        self.mask = (1 << self.bits) - 1
        self.shift = self.bits // 2 + 1
        draw = draws(seed, _PERM, 0).__next__
        self.rounds = [((draw() | 1) & self.mask, draw() & self.mask) for _ in range(2)]
        self.inverses = [pow(m, -1, 1 << self.bits) if self.bits else 0 for m, _ in self.rounds]

    def forward(self, x: int) -> int:
        mask, shift = self.mask, self.shift
        while True:
            for multiplier, addend in self.rounds:
                x = (x * multiplier + addend) & mask
                x ^= x >> shift
            if x < self.n:
                return x

    def inverse(self, y: int) -> int:
        mask, shift = self.mask, self.shift
        while True:
            for (_, addend), inverse in zip(reversed(self.rounds), reversed(self.inverses),
                                            strict=True):
                x = y
                for _ in range(self.bits // shift + 1):  # undo the xorshift
                    x = y ^ (x >> shift)
                y = ((x - addend) * inverse) & mask
            if y < self.n:
                return y


class StoreData:
    """All records at one ``(scale, seed)``, with the cheap lookups the server needs."""

    def __init__(self, scale: float = 1, seed: int = 42) -> None:
        self.scale = check_scale(scale)
        self.seed = int(seed)
        self.counts = counts(self.scale)
        self.products = self.counts["products"]
        self.users = self.counts["users"]
        self.carts = self.counts["carts"]
        self._shuffle = Shuffle(self.carts, self.seed)

    def product(self, i: int) -> dict[str, Any]:
        return product(i, self.seed)

    def user(self, i: int) -> dict[str, Any]:
        return user(i, self.seed)

    def cart_time(self, i: int) -> dt.datetime:
        """Non-decreasing in ``i``; carts 1..n follow the web store's year (``_CARTS``)."""
        return _EPOCH + dt.timedelta(seconds=self._cart_second(i))

    def cart_user(self, i: int) -> int:
        return self._shuffle.forward(i - 1) % self.users + 1

    def cart(self, i: int) -> dict[str, Any]:
        lines = self._cart_lines(i)
        return {
            "id": i,
            "userId": self.cart_user(i),
            "date": self._cart_date(i),
            "products": [{"productId": p, "quantity": q}
                         for p, q in zip(lines[::2], lines[1::2], strict=True)],
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
        inverse = self._shuffle.inverse
        return sorted(inverse(q) + 1 for q in range(user_id - 1, self.carts, self.users))

    # -- JSON text of many records at once: the server's hot path --------------------------

    def products_json(self, ids: Iterable[int]) -> str:
        """The products as JSON objects separated by commas (an array without brackets)."""
        seed = self.seed
        return ",".join([_PRODUCT_JSON % _product_fields(i, seed) for i in ids])

    def users_json(self, ids: Iterable[int]) -> str:
        """The users as JSON objects separated by commas (an array without brackets)."""
        seed = self.seed
        return ",".join([_USER_JSON % _user_fields(i, seed) for i in ids])

    def carts_json(self, ids: Iterable[int]) -> str:
        """The carts as JSON objects separated by commas (an array without brackets)."""
        user_of, date_of, lines_of = self.cart_user, self._cart_date, self._cart_lines
        texts = []
        for i in ids:
            lines = lines_of(i)
            texts.append(_CART_JSON[len(lines) // 2] % (i, user_of(i), date_of(i), *lines))
        return ",".join(texts)

    def _cart_second(self, i: int) -> int:
        """Seconds from the start of the demo year to cart ``i``'s timestamp."""
        return _CARTS.second((i - 1) / self.carts)

    def _cart_date(self, i: int) -> str:
        """``format_timestamp(self.cart_time(i))``, from lookup tables."""
        day, second = divmod(self._cart_second(i), 86_400)
        minute, second = divmod(second, 60)
        return f"{_DAY_PREFIXES[day]}{_MINUTE_PREFIXES[minute]}{_TWO_DIGITS[second]}.000Z"

    def _cart_lines(self, i: int) -> list[int]:
        """Cart ``i``'s products flattened: ``[productId, quantity, productId, quantity, …]``.

        All of it comes from one 128-bit hash cut into mixed-radix digits (random numbers
        are most of a cart's cost): how many products (1-4), then per product its id, taken
        from the ids not yet in the cart, and its quantity (1-5). At the largest scale the
        digits use under 96 of the 128 bits, so none is measurably biased.
        """
        products = self.products
        bits, extra = divmod(hash_bits(self.seed, _CART, i),
                             min(MAX_PRODUCTS_PER_CART, products))
        taken: list[int] = []  # 0-based product indexes
        lines: list[int] = []
        for already in range(1 + extra):
            bits, index = divmod(bits, products - already)
            for earlier in sorted(taken):  # make it the index-th product not taken yet
                if earlier <= index:
                    index += 1
            taken.append(index)
            bits, quantity = divmod(bits, MAX_QUANTITY)
            lines += (1 + index, 1 + quantity)
        return lines
