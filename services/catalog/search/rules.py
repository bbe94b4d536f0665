"""Search rules of the catalog: the Chinese tokenizer and the listing rules. Pure: no I/O.

Documents (a product's title, subtitle, category names and spec values) become terms:
- jieba's search-mode words (烟台红富士苹果 → 烟台, 富士, 红富士, 苹果),
- every CJK character and every pair of neighbouring characters, so any Chinese
  substring of a title can be found whatever jieba made of it (梨 finds 香梨, 糖心 finds
  冰糖心 although jieba cut it 冰糖/心),
- for each word its full pinyin and initials (苹果 → pingguo, pg), and for each Chinese run
  its pinyin and initials (烟台红富士苹果 → yantaihongfushipingguo, ythfspg). Not each
  character's syllable: one syllable (li: 梨 荔 栗 李 ...) finds a third of a shop,
- latin and digit words lower-cased (iPhone15 → iphone15, iphone, 15).
A query is cut with jieba's precise mode; every term must match (AND). A Chinese word of
three or more characters matches as itself or as all its character pairs; a latin term
that mixes letters and digits as itself or as its parts; the last latin term is a prefix
from three letters on (type-ahead: pingg finds 苹果).

jieba loads its dictionary once (about a second): `initialize()` does it at service start.
"""
import functools
import logging
import math
import re
import unicodedata
from datetime import timedelta

import jieba
from pypinyin import lazy_pinyin

from plumbing.errors import NotFound
from plumbing.validation import invalid

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_RUN = re.compile(rf"[{_CJK}]+|[a-z0-9]+")
_CJK_RUN = re.compile(rf"[{_CJK}]+")
_ALNUM_PARTS = re.compile(r"[a-z]+|[0-9]+")
_SYLLABLE = re.compile(r"[a-z]+")
# A whole Chinese run longer than this gets no run-level pinyin: nobody types it in one go.
MAX_RUN_PINYIN = 12
# Shorter latin prefixes match a good part of the catalogue (pg:* is every word whose
# initials start p, g): two letters are taken as typed.
MIN_PREFIX = 3
# Particles that only glue a query together (新鲜的苹果); dropped unless nothing else is left.
QUERY_STOP_WORDS = frozenset("的 了 和 与 及 或 之 等 啊 吗 呢 吧 呀 么".split())
MAX_POSITION = 16383  # PostgreSQL's limit for a tsvector position

jieba.setLogLevel(logging.WARNING)  # its dictionary load would otherwise print to stderr


def initialize():
    """Load jieba's dictionary now rather than on the first product or query."""
    jieba.initialize()


def _normalize(text):
    """Full-width letters and digits (ＡＢＣ１２) as ASCII, everything lower case."""
    return unicodedata.normalize("NFKC", text or "").lower()


def _runs(text):
    return _RUN.findall(_normalize(text))


def _is_cjk(run):
    return bool(_CJK_RUN.fullmatch(run))


def _add(terms, term):
    if term and term not in terms:
        terms[term] = None


# --- documents -------------------------------------------------------------------

def document_terms(text):
    """The terms of one field, in order of appearance, each once."""
    terms = {}
    for run in _runs(text):
        for term in _run_terms(run):
            _add(terms, term)
    return list(terms)


@functools.lru_cache(maxsize=4096)
def _run_terms(run):
    """The terms of one run of Chinese or of latin and digits. Cached: tokenizing a run
    takes about a millisecond (pypinyin, then jieba), and a product's runs come back at
    every change of it, a sale included."""
    terms = {}
    if _is_cjk(run):
        _chinese_document_terms(run, terms)
    else:
        _add(terms, run)
        for part in _ALNUM_PARTS.findall(run):
            _add(terms, part)
    return tuple(terms)


def _chinese_document_terms(run, terms):
    syllables = _syllables(run)
    for word, start, end in jieba.tokenize(run, mode="search"):
        _add(terms, word)
        _add_pinyin(terms, syllables[start:end])
    for index, char in enumerate(run):
        _add(terms, char)
        _add(terms, run[index:index + 2] if index + 1 < len(run) else None)
    if 2 <= len(run) <= MAX_RUN_PINYIN:
        _add_pinyin(terms, syllables)


def _syllables(run):
    """One toneless syllable per character, chosen in context (长沙 chang, 长大 zhang); None
    for a character pypinyin does not know."""
    spelled = lazy_pinyin(run, v_to_u=False)
    if len(spelled) != len(run):  # not one per character: spell them one by one
        spelled = [lazy_pinyin(char)[0] for char in run]
    return [s if _SYLLABLE.fullmatch(s) else None for s in spelled]


def _add_pinyin(terms, syllables):
    """Full pinyin and initials of a word of several characters (苹果 → pingguo, pg)."""
    if len(syllables) < 2 or None in syllables:
        return
    _add(terms, "".join(syllables))
    _add(terms, "".join(s[0] for s in syllables))


def document_fields(title, subtitle="", category_names=(), spec_values=()):
    """[(weight, terms)] of a product, most important field first."""
    return [("A", document_terms(title)), ("B", document_terms(subtitle)),
            ("C", document_terms(" ".join(category_names))),
            ("D", document_terms(" ".join(spec_values)))]


def tsvector_literal(fields):
    """PostgreSQL tsvector input for [(weight, terms)]: each term once, at the position and
    with the weight of its first and most important appearance (ts_rank reads the weights).
    Lexemes go in as they are: no text search configuration parses them again."""
    positions = {}
    for weight, terms in fields:
        for term in terms:
            if term not in positions:
                positions[term] = f"{min(len(positions) + 1, MAX_POSITION)}{weight}"
    return " ".join(f"{_quote(term)}:{position}" for term, position in positions.items())


def fts5_columns(fields):
    """(title, body) text of the SQLite FTS5 row: terms joined by spaces."""
    title = [term for weight, terms in fields if weight == "A" for term in terms]
    body = [term for weight, terms in fields if weight != "A" for term in terms]
    return " ".join(title), " ".join(body)


def _quote(lexeme):
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


# --- queries ---------------------------------------------------------------------

def query_plan(q):
    """What a query must match: a list of groups that must all match; each group is a list
    of alternatives, any of which may match; each alternative a tuple of (lexeme, prefix)
    pairs that must all be present. Empty when the query has nothing searchable."""
    words = []
    for run in _runs(q):
        if _is_cjk(run):
            words += [("cjk", word) for word in jieba.cut(run)]
        else:
            words.append(("latin", run))
    kept = [(kind, word) for kind, word in words if word not in QUERY_STOP_WORDS] or words
    last = len(kept) - 1
    return [_alternatives(kind, word, index == last) for index, (kind, word) in enumerate(kept)]


def _alternatives(kind, word, is_last):
    if kind == "cjk":
        pairs = [word[i:i + 2] for i in range(len(word) - 1)]
        exact = [((word, False),)]
        return exact + [tuple((pair, False) for pair in pairs)] if len(word) > 2 else exact
    prefix = is_last and len(word) >= MIN_PREFIX
    parts = _ALNUM_PARTS.findall(word)
    whole = [((word, prefix),)]
    if len(parts) < 2:
        return whole
    last_prefix = is_last and len(parts[-1]) >= MIN_PREFIX
    return whole + [tuple((part, last_prefix and i == len(parts) - 1)
                          for i, part in enumerate(parts))]


def tsquery_text(plan):
    """The plan as PostgreSQL tsquery input (cast it, do not parse it with a config)."""
    return " & ".join(
        "(" + " | ".join("(" + " & ".join(_quote(lexeme) + (":*" if prefix else "")
                                          for lexeme, prefix in alternative) + ")"
                         for alternative in group) + ")"
        for group in plan)


def fts5_match(plan):
    """The plan as an SQLite FTS5 MATCH expression."""
    return " AND ".join(
        "(" + " OR ".join("(" + " AND ".join(f'"{lexeme}"' + ("*" if prefix else "")
                                             for lexeme, prefix in alternative) + ")"
                          for alternative in group) + ")"
        for group in plan)


# --- listing rules ---------------------------------------------------------------

SORTS = ("relevance", "sales", "price_asc", "price_desc", "newest", "discount")
# (column of the search row, direction); product_id last, so every page is stable.
SORT_KEYS = {
    "relevance": (("rank", "desc"), ("sales_count", "desc"), ("product_id", "desc")),
    "sales": (("sales_count", "desc"), ("product_id", "desc")),
    "price_asc": (("price", "asc"), ("product_id", "asc")),
    "price_desc": (("price", "desc"), ("product_id", "desc")),
    "newest": (("published_at", "desc"), ("product_id", "desc")),
    "discount": (("discount", "desc"), ("product_id", "desc")),
}
# Results a listing pages through; deeper pages would cost an ever longer OFFSET scan and
# nobody scrolls 100 screens of a mini-program.
MAX_RESULTS = 5000


def sort_keys(sort, searching, matches=0):
    """The order of a listing. Relevance needs a query: without one it is newest first;
    no sort given means relevance when searching, newest otherwise. A search with
    MAX_RESULTS matches or more (counted no further: one character, a short prefix) is not
    ranked: reading every match to rank it would take longer than a shopper waits, so its
    best sellers come first."""
    if sort is None:
        sort = "relevance" if searching else "newest"
    if sort not in SORT_KEYS:
        raise invalid({"sort": [f"Must be one of: {', '.join(SORTS)}."]})
    if sort == "relevance" and not searching:
        sort = "newest"
    if sort == "relevance" and matches >= MAX_RESULTS:
        sort = "sales"
    return SORT_KEYS[sort]


def sort_matches(searching, group_buy, matches):
    """Whether a listing narrowed by words or by group buy has matches few enough to sort
    them all (store.order) rather than walk a sort index looking for them: fewer
    than the listing's result window, so their number is known and bounded."""
    return (searching or bool(group_buy)) and matches < MAX_RESULTS


def check_listing(min_price, max_price, page, page_size):
    errors = _page_errors(page, page_size)
    if min_price is not None and max_price is not None and min_price > max_price:
        errors["min_price"] = ["min_price may not be above max_price."]
    if errors:
        raise invalid(errors)


def check_page(page, page_size):
    errors = _page_errors(page, page_size)
    if errors:
        raise invalid(errors)


def _page_errors(page, page_size):
    if (page - 1) * page_size < MAX_RESULTS:
        return {}
    last = math.ceil(MAX_RESULTS / page_size)
    return {"page": [f"Listings stop at {MAX_RESULTS} results: at {page_size} a page, "
                     f"the last page is {last}."]}


def discount(price, market_price):
    """The share of the market price taken off (0.25 = 25% off); 0 without a discount."""
    if market_price is None or market_price <= price:
        return 0.0
    return 1 - price / market_price


def lowest_group_prices(campaigns, now, running):
    """{product_id: its lowest group price in a campaign running now} from campaign dicts
    (product_id, group_prices); `running(campaign, now)` is domain.campaign_running."""
    lowest = {}
    for campaign in campaigns:
        if not running(campaign, now):
            continue
        for entry in campaign["group_prices"]:
            product_id, price = campaign["product_id"], entry["group_price"]
            lowest[product_id] = min(price, lowest.get(product_id, price))
    return lowest


# --- home sections -----------------------------------------------------------------

# key -> the title the mini-program shows, in the order of the first screen.
SECTIONS = {"recommended": "推荐", "hot": "热销", "specials": "特价", "group_buy": "拼团专场",
            "new_arrivals": "新品"}
HOT_DAYS = 7
# 热销 sums a week of daily sales for every product sold in it: the ranking is shared by
# every shopper and kept this long in each process (a sale shows within a minute).
HOT_RANKING_SECONDS = 60
MAX_HOME_LIMIT = 20


def check_section(name):
    if name not in SECTIONS:
        raise NotFound("section_not_found", f"There is no home section {name!r}.",
                       details={"section": [f"Must be one of: {', '.join(SECTIONS)}."]})


def hot_days(now):
    """The UTC days (first, last) whose sales make a product hot: the last 7, today included."""
    today = now.date()
    return today - timedelta(days=HOT_DAYS - 1), today
