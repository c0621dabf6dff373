"""The demo legacy store's rows, each a pure function of ``(seed, row number)``.

At scale 1 the shop matches the original DeltaStore: 10,000 customers, 2,000 products in 4
categories, 100 suppliers, 15,000 orders over the 12 months ending at ``DEMO_END_DATE``
(each with 1-4 items, ~20,000 in all, one payment and one shipment), ~1,100 reviews.

Values are neutral Python values (``datetime``, ``int`` cents for money); the writer adapts
them to each database. Every timestamp is at most ``END_MOMENT`` (the last second of the
demo year), so anything a test stamps with "now" is newer than all generated rows.

The dirt real data has, at fixed row numbers so it exists at any scale from 0.02 up:
- customers: every 61st repeats the previous customer's name and email (a duplicate sign-up);
  every 37th has a mixed-case email with stray spaces; every 41st has padded / upper-case
  names; ~5 % have no phone number;
- suppliers: supplier 2 (or 1) has a one-word contact name; ~10 % have no phone number;
- products: every 31st (from 5) has a padded, re-cased category; every 29th (from 3) a
  trailing space in its name;
- payments: every 43rd order's status and every 59th order's method are re-cased / padded;
- shipments: every 53rd carrier and every 47th status are re-cased / padded; delivery date
  and tracking number are NULL when not delivered / not shipped;
- reviews: ~20 % have no text.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from deltastore.extract.demo import DEMO_END_DATE, DEMO_START_DATE, check_scale
from deltastore.extract.demo.rng import Rng, cumulative
from deltastore.us_states import US_STATES

PER_SCALE = {"customers": 10_000, "products": 2_000, "suppliers": 100, "orders": 15_000,
             "reviews": 1_100}
CATEGORIES = ("Electronics", "Home & Kitchen", "Accessories", "Furniture")
CARRIERS = ("DHL", "UPS", "FedEx")
SHIPMENT_STATUSES = ("Delivered", "Shipped", "Pending", "Cancelled")
TRANSACTION_STATUSES = ("Completed", "Pending", "Failed")
PAYMENT_METHODS = ("Credit Card", "PayPal", "Bank Transfer", "Debit Card")

START_MOMENT = dt.datetime(DEMO_START_DATE.year, DEMO_START_DATE.month, DEMO_START_DATE.day)
END_MOMENT = dt.datetime(DEMO_END_DATE.year, DEMO_END_DATE.month, DEMO_END_DATE.day, 23, 59, 59)
_WINDOW_SECONDS = int((END_MOMENT - START_MOMENT).total_seconds())

_STATE_CODES = tuple(US_STATES)

# Streams of the keyed generator, one per kind of record.
_CUSTOMER, _PRODUCT, _PRICE, _QUALITY, _SUPPLIER, _ORDER, _REVIEW = range(1, 8)

_FIRST = ("James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda",
          "David", "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica",
          "Thomas", "Sarah", "Carlos", "Karen", "Daniel", "Lisa", "Matthew", "Nancy", "Anthony",
          "Sandra", "Mark", "Ashley", "Wei", "Priya", "Omar", "Sofia")
_LAST = ("Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis",
         "Rodriguez", "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson",
         "Thomas", "Taylor", "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White",
         "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson", "Nguyen", "Patel")
_MAIL_DOMAINS = ("gmail.com", "yahoo.com", "outlook.com", "example.com", "icloud.com")
_STREETS = ("Harbor", "Maple", "Oak", "Pine", "Cedar", "Elm", "Lake", "Hill", "Sunset",
            "Washington", "Park", "River", "Church", "Mill", "Highland", "Meadow")
_STREET_KINDS = ("St", "Ave", "Rd", "Ln", "Dr", "Blvd", "Ct", "Way")
_CITIES = ("Bay View", "Springfield", "Riverside", "Fairview", "Franklin", "Greenville",
           "Bristol", "Clinton", "Georgetown", "Salem", "Madison", "Arlington", "Ashland",
           "Dover", "Oxford", "Milton", "Newport", "Jackson", "Burlington", "Manchester")
_PRODUCT_NOUNS = {
    "Electronics": ("Wireless Earbuds", "Smartphone", "Laptop", "Tablet", "Smartwatch",
                    "Bluetooth Speaker", "4K Monitor", "Gaming Mouse", "Webcam", "Power Bank"),
    "Home & Kitchen": ("Blender", "Coffee Maker", "Air Fryer", "Cookware Set", "Toaster",
                       "Knife Block", "Electric Kettle", "Vacuum Cleaner", "Rice Cooker"),
    "Accessories": ("Leather Wallet", "Sunglasses", "Backpack", "Phone Case", "Watch Strap",
                    "Belt", "Scarf", "Travel Mug", "Laptop Sleeve"),
    "Furniture": ("Office Chair", "Standing Desk", "Bookshelf", "Sofa", "Dining Table",
                  "Bed Frame", "Nightstand", "TV Stand", "Armchair"),
}
_PRODUCT_ADJECTIVES = ("Classic", "Premium", "Compact", "Smart", "Deluxe", "Eco", "Pro",
                       "Ultra", "Essential", "Modern", "Portable", "Vintage")
_PRICE_CENTS = {"Electronics": (1_999, 149_999), "Home & Kitchen": (999, 39_999),
                "Accessories": (499, 14_999), "Furniture": (4_999, 129_999)}
_COMPANIES = ("Acme Supply", "Global Traders", "Prime Source", "Northwind", "Blue Ocean",
              "Summit Goods", "Pioneer Wholesale", "Metro Distributors", "Evergreen Imports")
_REVIEW_TEXT = {
    1: ("Terrible quality, broke after a week.", "Would not buy again.",
        "Arrived damaged and support never answered."),
    2: ("Disappointing, not as described.", "Poor value for the price."),
    3: ("It's okay, does the job.", "Average product, slow delivery."),
    4: ("Good product, works as expected.", "Nice quality for the price.",
        "Happy with it, minor issues."),
    5: ("Excellent! Highly recommend.", "Love it, exceeded my expectations.",
        "Perfect, five stars."),
}

_METHOD_SHARES = cumulative((45, 30, 15, 10))
_STATUS_SHARES = cumulative((80, 10, 10))
_CARRIER_SHARES = cumulative((35, 35, 30))
_ITEMS_SHARES = cumulative((75, 17, 6, 2))  # 1-4 items per order, ~1.35 on average
_QUANTITY_SHARES = cumulative((50, 25, 12, 8, 5))
_RATING_SHARES = cumulative((2, 5, 13, 38, 42))
_LOW_RATING_SHARES = cumulative((35, 35, 20, 7, 3))
# Per carrier: share of paid orders delivered, and the delivery time range in days.
_CARRIER_SERVICE = {"DHL": (0.88, 1, 5), "UPS": (0.84, 1, 7), "FedEx": (0.78, 2, 9)}
# Dirty spellings that mean the same value once trimmed and case-folded.
_DIRTY_CARRIERS = {"DHL": "dhl ", "UPS": " Ups", "FedEx": "FEDEX"}
_DIRTY_SHIPMENT_STATUS = {"Delivered": "delivered", "Shipped": " SHIPPED",
                          "Pending": "Pending ", "Cancelled": "cancelled "}
_DIRTY_TRANSACTION_STATUS = {"Completed": "completed", "Pending": " PENDING",
                             "Failed": "Failed "}


def legacy_counts(scale: float) -> dict[str, int]:
    """Rows per table that do not depend on random draws (order items vary: 1-4 per order)."""
    scale = check_scale(scale)
    return {name: max(1, round(per_unit * scale)) for name, per_unit in PER_SCALE.items()}


@dataclass(frozen=True)
class OrderRows:
    """One order with everything that hangs off it."""

    order: tuple
    items: list[tuple]
    payment: tuple
    shipment: tuple


class LegacyData:
    """The rows of every legacy table at one ``(scale, seed)``."""

    def __init__(self, scale: float = 1, seed: int = 42) -> None:
        self.scale = scale
        self.seed = int(seed)
        self.counts = legacy_counts(scale)
        self.customers = self.counts["customers"]
        self.products = self.counts["products"]
        self.suppliers = self.counts["suppliers"]
        self.orders = self.counts["orders"]
        self.reviews = self.counts["reviews"]
        self.one_word_supplier = min(2, self.suppliers)

    # -- customers --------------------------------------------------------------------

    def _person(self, i: int) -> tuple[str, str, str]:
        rng = Rng(self.seed, _CUSTOMER, i)
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        email = f"{first.lower()}.{last.lower()}{i}@{rng.choice(_MAIL_DOMAINS)}"
        return first, last, email

    def customer(self, i: int) -> tuple:
        """(customer_id, first_name, last_name, email, phone_number, address, created_at,
        updated_at)."""
        first, last, email = self._person(i - 1 if i % 61 == 0 else i)
        rng = Rng(self.seed, _CUSTOMER, -i)
        if i % 37 == 0:
            email = f"  {email.title()} "
        if i % 41 == 0:
            first, last = f" {first}", f"{last.upper()} "
        phone = None if rng.random() < 0.05 else _phone(rng)
        # Customers signed up in the two years before the demo year.
        created = START_MOMENT - dt.timedelta(seconds=rng.randint(1, 2 * 365 * 86_400))
        updated = created
        if rng.random() < 0.3:  # some changed their details since
            updated = _later(rng, created)
        return (i, first, last, email, phone, _address(rng), created, updated)

    # -- products and suppliers -------------------------------------------------------

    def product_category(self, i: int) -> str:
        return CATEGORIES[(i - 1) % len(CATEGORIES)]

    def product_price_cents(self, i: int) -> int:
        low, high = _PRICE_CENTS[self.product_category(i)]
        # Prices end in 9 like a shop's.
        return Rng(self.seed, _PRICE, i).randint(low // 10, high // 10) * 10 + 9

    def product_is_poor(self, i: int) -> bool:
        """About 1 product in 10 disappoints its reviewers."""
        return Rng(self.seed, _QUALITY, i).random() < 0.1

    def product(self, i: int) -> tuple:
        """(product_id, product_name, category, price, supplier_id, updated_at)."""
        rng = Rng(self.seed, _PRODUCT, i)
        category = self.product_category(i)
        name = f"{rng.choice(_PRODUCT_ADJECTIVES)} {rng.choice(_PRODUCT_NOUNS[category])}"
        if i % 29 == 3:
            name += " "
        if i % 31 == 5:
            category = f" {category.upper()} " if i % 2 else category.lower()
        updated = START_MOMENT + dt.timedelta(seconds=rng.randint(0, _WINDOW_SECONDS))
        return (i, name, category, self.product_price_cents(i),
                rng.randint(1, self.suppliers), updated)

    def supplier(self, i: int) -> tuple:
        """(supplier_id, contact_name, phone_number, email, address)."""
        rng = Rng(self.seed, _SUPPLIER, i)
        first, last, company = rng.choice(_FIRST), rng.choice(_LAST), rng.choice(_COMPANIES)
        contact = first if i == self.one_word_supplier else f"{first} {last}"
        phone = None if rng.random() < 0.1 else _phone(rng)
        domain = company.lower().replace(" ", "") + ".com"
        return (i, contact, phone, f"{first.lower()}.{last.lower()}@{domain}", _address(rng))

    # -- orders with their items, payment and shipment --------------------------------

    def order(self, i: int, first_item_id: int) -> OrderRows:
        """Order ``i``; its items are numbered from ``first_item_id``."""
        rng = Rng(self.seed, _ORDER, i)
        ordered = START_MOMENT + dt.timedelta(seconds=rng.randint(0, _WINDOW_SECONDS))
        items: list[tuple] = []
        total = 0
        n_items = min(rng.weighted((1, 2, 3, 4), _ITEMS_SHARES), self.products)
        for position, product_id in enumerate(rng.distinct(self.products, n_items)):
            price = self.product_price_cents(product_id)
            if rng.random() < 0.1:  # bought on sale
                price = price * rng.randint(80, 95) // 100
            quantity = rng.weighted((1, 2, 3, 4, 5), _QUANTITY_SHARES)
            total += quantity * price
            items.append((first_item_id + position, i, product_id, quantity, price))
        order = (i, rng.randint(1, self.customers), ordered, total, _later(rng, ordered, 3))

        status = rng.weighted(TRANSACTION_STATUSES, _STATUS_SHARES)
        method = rng.weighted(PAYMENT_METHODS, _METHOD_SHARES)
        shown_status = _DIRTY_TRANSACTION_STATUS[status] if i % 43 == 0 else status
        shown_method = method.lower() if i % 59 == 0 else method
        payment = (i, i, shown_method, total, shown_status)
        return OrderRows(order, items, payment, self._shipment(rng, i, ordered, status))

    def _shipment(self, rng: Rng, i: int, ordered: dt.datetime, paid: str) -> tuple:
        """(shipment_id, order_id, shipment_date, delivery_date, carrier, tracking_number,
        shipment_status, updated_at); a failed payment cancels the shipment."""
        carrier = rng.weighted(CARRIERS, _CARRIER_SHARES)
        success, fastest, slowest = _CARRIER_SERVICE[carrier]
        shipped = min(ordered + dt.timedelta(hours=rng.randint(2, 60)), END_MOMENT)
        delivered: dt.datetime | None = None
        if paid == "Failed":
            status = "Cancelled"
        elif paid == "Pending":
            status = "Pending"
        elif rng.random() < success:
            delivered = shipped + dt.timedelta(days=rng.randint(fastest, slowest),
                                               hours=rng.randint(0, 12))
            status = "Delivered"
            if delivered > END_MOMENT:  # not arrived yet at the end of the demo year
                delivered, status = None, "Shipped"
        else:
            status = "Shipped" if rng.random() < 0.7 else "Cancelled"
        tracking = None if status in ("Pending", "Cancelled") else _tracking(rng, carrier)
        updated = min((delivered or shipped) + dt.timedelta(minutes=rng.randint(0, 600)),
                      END_MOMENT)
        return (i, i, shipped, delivered,
                _DIRTY_CARRIERS[carrier] if i % 53 == 0 else carrier, tracking,
                _DIRTY_SHIPMENT_STATUS[status] if i % 47 == 0 else status, updated)

    # -- reviews ----------------------------------------------------------------------

    def review(self, i: int) -> tuple:
        """(review_id, product_id, customer_id, rating, review_text, review_date)."""
        rng = Rng(self.seed, _REVIEW, i)
        # Reviews gather on the best sellers: the first fifth of the catalogue.
        product_id = rng.randint(1, max(1, self.products // 5))
        shares = _LOW_RATING_SHARES if self.product_is_poor(product_id) else _RATING_SHARES
        rating = rng.weighted((1, 2, 3, 4, 5), shares)
        text = None if rng.random() < 0.2 else rng.choice(_REVIEW_TEXT[rating])
        reviewed = START_MOMENT + dt.timedelta(seconds=rng.randint(0, _WINDOW_SECONDS))
        return (i, product_id, rng.randint(1, self.customers), rating, text, reviewed)


def _later(rng: Rng, moment: dt.datetime, max_days: int = 365) -> dt.datetime:
    """A moment after ``moment`` but never after the end of the demo year."""
    return min(moment + dt.timedelta(seconds=rng.randint(0, max_days * 86_400)), END_MOMENT)


def _phone(rng: Rng) -> str:
    return f"({rng.randint(201, 989)}) {rng.randint(200, 999)}-{rng.randint(0, 9999):04d}"


def _address(rng: Rng) -> str:
    """Like ``929 Harbor Rd, Bay View, AK``."""
    return (f"{rng.randint(1, 9999)} {rng.choice(_STREETS)} {rng.choice(_STREET_KINDS)}, "
            f"{rng.choice(_CITIES)}, {rng.choice(_STATE_CODES)}")


def _tracking(rng: Rng, carrier: str) -> str:
    if carrier == "UPS":
        return f"1Z{rng.randint(0, 16**16 - 1):016X}"
    return f"{carrier[:2].upper()}{rng.randint(10**11, 10**12 - 1)}"
