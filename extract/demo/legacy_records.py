"""The demo legacy store's rows, each a pure function of ``(seed, row number)``.

At scale 1 the shop matches the original DeltaStore: 10,000 customers, 2,000 products in 4
categories, 100 suppliers, 15,000 orders over the 12 months ending at ``DEMO_END_DATE``
(each with 1-4 items, ~20,000 in all, one payment and one shipment), ~1,100 reviews.

The shape of a real shop, so the dashboards have something to show (the tests in
tests/extract/demo/test_demo_shapes.py check each on the marts of a scale-1 demo):
- **time**: orders grow 1.5 % a month and peak in Q4 (``seasons.SEASON``: November x1.6,
  December x1.9 a quiet month's rate), so November and December each bring at least 1.3
  times the monthly mean revenue;
- **where**: a customer's state is drawn by population (2020 census), so California has
  dozens of times the customers of Wyoming; delivery takes longer the further a state is
  from the warehouse in Ohio (``_STATE_ZONE``: 0 to 4 extra days, Alaska and Hawaii most);
- **carriers**: DHL is fast and rarely loses a parcel, UPS is in between, FedEx is slow
  and loses the most (``_CARRIER_SERVICE``): mean delivery about 2.5 / 4 / 5.5 days plus
  the state's extra days, so the slowest is at least 1.5 days slower than the fastest;
- **categories**: different price ranges (``_PRICE_CENTS``), shares of disappointing
  products (``_POOR_SHARE``, so average ratings differ) and return rates
  (``_RETURN_RATE``, by the category of an order's first item; a returned shipment keeps
  its delivery date and has status `Returned`);
- **customers**: sign-ups run through the year before the demo year and the demo year
  itself; each order goes to a customer who signed up a while before it, most often
  recently (``_REPEAT_GAPS``), so customers come back for a few months and then churn,
  a loyal few keep ordering, and some never order;
- **the run date**: orders of the last weeks are more often still pending payment, and
  parcels not delivered by the end of the year are `Shipped` (in transit).

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
  is NULL unless delivered (or delivered and returned), tracking number NULL when not
  shipped;
- reviews: ~20 % have no text.
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
from dataclasses import dataclass

from deltastore.extract.demo import DEMO_END_DATE, DEMO_START_DATE, check_scale
from deltastore.extract.demo.rng import Rng, cumulative, keyed_draw, keyed_unit
from deltastore.extract.demo.seasons import DAY, DAYS, Calendar, day_weights
from deltastore.us_states import US_STATES

PER_SCALE = {"customers": 10_000, "products": 2_000, "suppliers": 100, "orders": 15_000,
             "reviews": 1_100}
CATEGORIES = ("Electronics", "Home & Kitchen", "Accessories", "Furniture")
CARRIERS = ("DHL", "UPS", "FedEx")
SHIPMENT_STATUSES = ("Delivered", "Shipped", "Pending", "Cancelled", "Returned")
TRANSACTION_STATUSES = ("Completed", "Pending", "Failed")
PAYMENT_METHODS = ("Credit Card", "PayPal", "Bank Transfer", "Debit Card")

START_MOMENT = dt.datetime(DEMO_START_DATE.year, DEMO_START_DATE.month, DEMO_START_DATE.day)
END_MOMENT = dt.datetime(DEMO_END_DATE.year, DEMO_END_DATE.month, DEMO_END_DATE.day, 23, 59, 59)
_WINDOW_SECONDS = int((END_MOMENT - START_MOMENT).total_seconds())

_STATE_CODES = tuple(US_STATES)
# Residents in thousands (US Census 2020, rounded): customers live where people do.
_STATE_POPULATION = {
    "AL": 5025, "AK": 733, "AZ": 7152, "AR": 3012, "CA": 39538, "CO": 5774, "CT": 3606,
    "DE": 990, "DC": 690, "FL": 21538, "GA": 10712, "HI": 1455, "ID": 1839, "IL": 12813,
    "IN": 6786, "IA": 3190, "KS": 2938, "KY": 4506, "LA": 4658, "ME": 1362, "MD": 6177,
    "MA": 7030, "MI": 10077, "MN": 5706, "MS": 2961, "MO": 6155, "MT": 1084, "NE": 1962,
    "NV": 3105, "NH": 1378, "NJ": 9289, "NM": 2118, "NY": 20201, "NC": 10439, "ND": 779,
    "OH": 11799, "OK": 3959, "OR": 4237, "PA": 13003, "RI": 1097, "SC": 5118, "SD": 887,
    "TN": 6911, "TX": 29146, "UT": 3272, "VT": 643, "VA": 8631, "WA": 7705, "WV": 1794,
    "WI": 5894, "WY": 577,
}
_STATE_SHARES = cumulative([_STATE_POPULATION[code] for code in _STATE_CODES])
# Shipping zone from the warehouse in Ohio: 0 next door ... 3 the west coast, 4 off the
# mainland. Each zone adds (low, high) days to a parcel's journey.
_STATE_ZONE = {
    "OH": 0, "IN": 0, "KY": 0, "MI": 0, "WV": 0, "PA": 0, "IL": 0,
    "NY": 1, "NJ": 1, "MD": 1, "DE": 1, "DC": 1, "VA": 1, "NC": 1, "TN": 1, "WI": 1,
    "IA": 1, "MO": 1, "CT": 1, "MA": 1, "RI": 1, "VT": 1, "NH": 1, "GA": 1, "SC": 1,
    "AL": 1,
    "ME": 2, "MN": 2, "MS": 2, "AR": 2, "LA": 2, "FL": 2, "OK": 2, "KS": 2, "NE": 2,
    "SD": 2, "ND": 2, "TX": 2,
    "CO": 3, "NM": 3, "WY": 3, "MT": 3, "ID": 3, "UT": 3, "AZ": 3, "NV": 3, "CA": 3,
    "OR": 3, "WA": 3,
    "AK": 4, "HI": 4,
}
_ZONE_EXTRA_DAYS = ((0, 0), (0, 1), (1, 2), (1, 3), (3, 5))

# Streams of the keyed generator, one per kind of record.
_CUSTOMER, _PRODUCT, _PRICE, _QUALITY, _SUPPLIER, _ORDER, _REVIEW, _STATE = range(1, 9)

# Orders over the demo year; customers sign up over the year before it (at a steadier,
# lower pace) and during it, as orders come in. Seconds on the sign-up calendar count from
# a year before the demo year starts.
_ORDER_GROWTH = 0.015
_ORDER_DAYS = day_weights(_ORDER_GROWTH)
_ORDERS = Calendar(_ORDER_DAYS)
_SIGNUP_LEAD_DAYS = 365
_SIGNUPS = Calendar([0.6 * sum(_ORDER_DAYS) / DAYS] * _SIGNUP_LEAD_DAYS + _ORDER_DAYS)
_SIGNUP_START = START_MOMENT - dt.timedelta(days=_SIGNUP_LEAD_DAYS)
# How long after signing up a customer places an order: (share of orders, mean days) of
# exponential gaps. Most orders come soon after sign-up, so customers come back for a few
# months and churn; the loyal share keeps ordering for a year or more.
_REPEAT_GAPS = ((0.45, 4.0), (0.35, 75.0), (0.20, 400.0))
_GAP_SHARES = cumulative([share for share, _ in _REPEAT_GAPS])
_GAP_SECONDS = tuple(mean * DAY for _, mean in _REPEAT_GAPS)

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
# Share of each category's products that disappoint their reviewers (low ratings).
_POOR_SHARE = {"Electronics": 0.08, "Home & Kitchen": 0.12, "Accessories": 0.25,
               "Furniture": 0.05}
# Share of delivered orders sent back, by the category of the order's first item.
_RETURN_RATE = {"Electronics": 0.06, "Home & Kitchen": 0.04, "Accessories": 0.025,
                "Furniture": 0.10}
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
# Payments fail at one rate; a payment is more often still pending the closer its order
# is to the end of the year: (orders younger than this many days, share pending).
_FAILED_SHARE = 0.05
_PENDING_BY_AGE = ((7, 0.35), (21, 0.10), (math.inf, 0.015))
_CARRIER_SHARES = cumulative((35, 35, 30))
_ITEMS_SHARES = cumulative((75, 17, 6, 2))  # 1-4 items per order, ~1.35 on average
_QUANTITY_SHARES = cumulative((50, 25, 12, 8, 5))
_RATING_SHARES = cumulative((2, 5, 13, 38, 42))
_LOW_RATING_SHARES = cumulative((35, 35, 20, 7, 3))
# Per carrier: share of parcels lost on the way, and the delivery time range in days
# before the state's zone adds its own.
_CARRIER_SERVICE = {"DHL": (0.015, 1, 4), "UPS": (0.035, 2, 6), "FedEx": (0.07, 3, 8)}
# Dirty spellings that mean the same value once trimmed and case-folded.
_DIRTY_CARRIERS = {"DHL": "dhl ", "UPS": " Ups", "FedEx": "FEDEX"}
_DIRTY_SHIPMENT_STATUS = {"Delivered": "delivered", "Shipped": " SHIPPED",
                          "Pending": "Pending ", "Cancelled": "cancelled ",
                          "Returned": "RETURNED"}
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
        created = self.signed_up(i)
        updated = created
        if rng.random() < 0.3:  # some changed their details since
            updated = _later(rng, created)
        return (i, first, last, email, phone, _address(rng, self.customer_state(i)), created,
                updated)

    def signed_up(self, i: int) -> dt.datetime:
        """Customers are numbered in sign-up order over the sign-up calendar; customer ``i``
        signed up at the start of its share of it (never after anything it ordered)."""
        offset = _SIGNUPS.second((i - 1) / self.customers)
        return _SIGNUP_START + dt.timedelta(seconds=offset)

    def customer_state(self, i: int) -> str:
        """Where customer ``i`` lives, drawn by population."""
        return _STATE_CODES[bisect.bisect_right(_STATE_SHARES, keyed_unit(self.seed, _STATE, i))]

    def _customer_at(self, rng: Rng, ordered_second: int) -> int:
        """The customer of an order placed ``ordered_second`` into the demo year: someone
        who signed up a random gap (``_REPEAT_GAPS``) before it."""
        # one draw picks the kind of gap, and its place within that kind's share is a
        # uniform draw again, for the gap's length
        u = rng.random()
        kind = bisect.bisect_right(_GAP_SHARES, u)
        low = _GAP_SHARES[kind - 1] if kind else 0.0
        gap = -_GAP_SECONDS[kind] * math.log(1.0 - (u - low) / (_GAP_SHARES[kind] - low))
        signup = ordered_second + _SIGNUP_LEAD_DAYS * DAY - gap
        if signup > 0:
            share = _SIGNUPS.share_before(signup)
        else:  # before the first sign-up: one of the first two months' customers
            share = rng.random() * _SIGNUPS.share_before(61 * DAY)
        return min(self.customers, 1 + int(share * self.customers))

    # -- products and suppliers -------------------------------------------------------

    def product_category(self, i: int) -> str:
        return CATEGORIES[(i - 1) % len(CATEGORIES)]

    def product_price_cents(self, i: int) -> int:
        low, high = _PRICE_CENTS[self.product_category(i)]
        # Prices end in 9 like a shop's (one draw: ``Rng(...).randint`` without the object).
        span = high // 10 - low // 10 + 1
        return (low // 10 + keyed_draw(self.seed, _PRICE, i) % span) * 10 + 9

    def product_is_poor(self, i: int) -> bool:
        """Whether product ``i`` disappoints its reviewers (``_POOR_SHARE`` of its category)."""
        return Rng(self.seed, _QUALITY, i).random() < _POOR_SHARE[self.product_category(i)]

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
        return (i, contact, phone, f"{first.lower()}.{last.lower()}@{domain}",
                _address(rng, rng.choice(_STATE_CODES)))

    # -- orders with their items, payment and shipment --------------------------------

    def order(self, i: int, first_item_id: int) -> OrderRows:
        """Order ``i``; its items are numbered from ``first_item_id``."""
        rng = Rng(self.seed, _ORDER, i)
        second = _ORDERS.second(rng.random())
        ordered = START_MOMENT + dt.timedelta(seconds=second)
        customer = self._customer_at(rng, second)
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
        order = (i, customer, ordered, total, _later(rng, ordered, 3))

        status = _payment_status(rng, _WINDOW_SECONDS - second)
        method = rng.weighted(PAYMENT_METHODS, _METHOD_SHARES)
        shown_status = _DIRTY_TRANSACTION_STATUS[status] if i % 43 == 0 else status
        shown_method = method.lower() if i % 59 == 0 else method
        payment = (i, i, shown_method, total, shown_status)
        return_rate = _RETURN_RATE[self.product_category(items[0][2])]
        shipment = self._shipment(rng, i, ordered, status, self.customer_state(customer),
                                  return_rate)
        return OrderRows(order, items, payment, shipment)

    def _shipment(self, rng: Rng, i: int, ordered: dt.datetime, paid: str, state: str,
                  return_rate: float) -> tuple:
        """(shipment_id, order_id, shipment_date, delivery_date, carrier, tracking_number,
        shipment_status, updated_at); a failed payment cancels the shipment, a pending one
        holds it, a parcel due after the end of the year is still `Shipped`."""
        carrier = rng.weighted(CARRIERS, _CARRIER_SHARES)
        lost, fastest, slowest = _CARRIER_SERVICE[carrier]
        shipped = min(ordered + dt.timedelta(hours=rng.randint(2, 60)), END_MOMENT)
        delivered: dt.datetime | None = None
        changed = shipped
        if paid == "Failed":
            status = "Cancelled"
        elif paid == "Pending":
            status = "Pending"
        elif rng.random() < lost:
            status = "Cancelled"
        else:
            low, high = _ZONE_EXTRA_DAYS[_STATE_ZONE[state]]
            delivered = shipped + dt.timedelta(
                days=rng.randint(fastest, slowest) + rng.randint(low, high),
                hours=rng.randint(0, 12))
            status = "Delivered"
            changed = delivered
            if delivered > END_MOMENT:  # not arrived yet at the end of the demo year
                delivered, status, changed = None, "Shipped", shipped
            elif rng.random() < return_rate:
                sent_back = delivered + dt.timedelta(days=rng.randint(3, 14))
                if sent_back <= END_MOMENT:
                    status, changed = "Returned", sent_back
        tracking = None if status in ("Pending", "Cancelled") else _tracking(rng, carrier)
        updated = min(changed + dt.timedelta(minutes=rng.randint(0, 600)), END_MOMENT)
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


def _payment_status(rng: Rng, seconds_to_year_end: int) -> str:
    """Completed, Failed or Pending; recent orders are more often still pending."""
    pending = _PENDING_BY_AGE[-1][1]
    for days, share in _PENDING_BY_AGE:
        if seconds_to_year_end < days * DAY:
            pending = share
            break
    draw = rng.random()
    return "Pending" if draw < pending else "Failed" if draw < pending + _FAILED_SHARE else (
        "Completed")


def _later(rng: Rng, moment: dt.datetime, max_days: int = 365) -> dt.datetime:
    """A moment after ``moment`` but never after the end of the demo year."""
    return min(moment + dt.timedelta(seconds=rng.randint(0, max_days * 86_400)), END_MOMENT)


def _phone(rng: Rng) -> str:
    return f"({rng.randint(201, 989)}) {rng.randint(200, 999)}-{rng.randint(0, 9999):04d}"


def _address(rng: Rng, state: str) -> str:
    """Like ``929 Harbor Rd, Bay View, AK``."""
    return (f"{rng.randint(1, 9999)} {rng.choice(_STREETS)} {rng.choice(_STREET_KINDS)}, "
            f"{rng.choice(_CITIES)}, {state}")


def _tracking(rng: Rng, carrier: str) -> str:
    if carrier == "UPS":
        return f"1Z{rng.randint(0, 16**16 - 1):016X}"
    return f"{carrier[:2].upper()}{rng.randint(10**11, 10**12 - 1)}"
