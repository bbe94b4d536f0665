"""Search rules without I/O: the Chinese tokenizer (jieba, pypinyin), query plans as
PostgreSQL and SQLite text, the listing checks, group prices and the hot window."""
from datetime import date, datetime, timezone

import pytest

from plumbing.errors import BadRequest, NotFound
from services.catalog import domain
from services.catalog.search import rules as search


@pytest.fixture(scope="module", autouse=True)
def tokenizer():
    search.initialize()


def terms(text):
    return set(search.document_terms(text))


def plan(q):
    return search.query_plan(q)


def matches(q, document):
    """Does a document with these texts match the query (the plan evaluated in Python, as
    the databases evaluate it: prefix terms match any term they start)?"""
    found = terms(document)

    def present(lexeme, prefix):
        return any(t.startswith(lexeme) for t in found) if prefix else lexeme in found

    query = plan(q)
    return bool(query) and all(any(all(present(*term) for term in alternative)
                                   for alternative in group) for group in query)


# --- documents: words, characters, pinyin ------------------------------------------

def test_a_title_yields_jieba_search_words():
    found = terms("烟台红富士苹果 5斤装 当季新鲜")
    assert {"烟台", "红富士", "富士", "苹果", "当季", "新鲜"} <= found


def test_every_chinese_character_and_neighbouring_pair_is_a_term():
    found = terms("库尔勒香梨")
    assert {"库", "尔", "勒", "香", "梨"} <= found
    assert {"库尔", "尔勒", "勒香", "香梨"} <= found


@pytest.mark.parametrize("word, pinyin, initials", [
    ("苹果", "pingguo", "pg"),
    ("车厘子", "chelizi", "clz"),
    ("手机壳", "shoujike", "sjk"),
    ("大米", "dami", "dm"),
    ("绿色", "lvse", "ls"),  # ü typed as v, as on every Chinese keyboard
    ("长沙", "changsha", "cs"),  # the reading in context, not the first in the dictionary
])
def test_chinese_words_carry_their_pinyin_and_initials(word, pinyin, initials):
    assert {pinyin, initials} <= terms(word)


def test_pinyin_is_read_in_context():
    assert "zhangda" in terms("长大") and "changsha" in terms("长沙")


def test_a_lone_syllable_is_no_term():
    # li is 梨, 荔, 栗, 李 and a hundred more: it would find a third of a shop
    assert not {"ping", "guo"} & terms("苹果")


def test_a_chinese_run_carries_its_pinyin_and_initials_in_one_piece():
    found = terms("红富士苹果")
    assert {"hongfushipingguo", "hfspg"} <= found


def test_a_very_long_run_gets_no_run_level_pinyin():
    long_run = "新疆阿克苏冰糖心红富士苹果"
    assert len(long_run) > search.MAX_RUN_PINYIN
    assert not any(term.startswith("xinjiangake") for term in terms(long_run))


def test_latin_and_digits_are_lower_cased_and_split_where_letters_meet_digits():
    assert {"iphone15", "iphone", "15", "pro"} <= terms("iPhone15 Pro")
    assert {"5", "kg"} <= terms("5kg")


def test_full_width_letters_and_digits_count_as_ascii():
    assert {"abc123", "abc", "123"} <= terms("ＡＢＣ１２３")


@pytest.mark.parametrize("text", ["", "   ", "!!!", "🍎🍐", "，。、！？", "—— ……", None])
def test_punctuation_emoji_and_blanks_make_no_terms(text):
    assert search.document_terms(text) == []


def test_a_term_appears_once_in_order_of_first_appearance():
    found = search.document_terms("苹果 苹果 iPhone iphone")
    assert len(found) == len(set(found))
    assert found.index("苹果") < found.index("iphone")


# --- queries -------------------------------------------------------------------------

@pytest.mark.parametrize("q", ["", "   ", "!!!", "🍎", "，。？", "%", "_"])
def test_blank_punctuation_and_emoji_queries_have_no_terms(q):
    assert plan(q) == []


def test_chinese_is_cut_precisely_and_every_word_must_match():
    assert plan("红富士苹果") == [[(("红富士", False),), (("红富", False), ("富士", False))],
                                 [(("苹果", False),)]]
    assert matches("红富士苹果", "烟台红富士苹果 5斤装")
    assert not matches("红富士苹果", "洛川红富士 礼盒")


@pytest.mark.parametrize("q", ["苹果", "pingguo", "pg", "pin", "pingg", "PingGuo", "ＰＧ"])
def test_pinyin_initials_and_type_ahead_find_apples(q):
    assert matches(q, "烟台红富士苹果 5斤装")
    assert not matches(q, "砀山酥梨 5斤")


def test_a_single_character_finds_the_words_it_is_in():
    assert matches("梨", "库尔勒香梨") and matches("梨", "砀山酥梨")
    assert not matches("梨", "烟台红富士苹果")


def test_a_word_jieba_never_cut_from_the_title_is_still_found_by_its_characters():
    # jieba cuts the title 冰糖/心; the query 冰糖心苹果 and the substring 糖心 still find it
    assert "糖心" not in [word for word in search.document_terms("冰糖心苹果") if len(word) > 2]
    assert matches("糖心", "新疆阿克苏冰糖心苹果")
    assert matches("阿克苏冰糖心", "新疆阿克苏冰糖心苹果")
    assert not matches("糖心", "冰糖 雪梨")  # the two characters must be neighbours


def test_mixed_chinese_and_latin_queries():
    assert plan("iPhone 手机壳") == [[(("iphone", False),)], [(("手机", False),)],
                                    [(("壳", False),)]]
    assert matches("iPhone 手机壳", "iPhone 15 手机壳 防摔")
    assert matches("iphone手机壳", "苹果手机壳 iPhone14 磨砂")
    assert not matches("iPhone 手机壳", "华为Mate60 手机壳")


def test_letters_and_digits_typed_together_match_them_apart():
    assert matches("iphone15", "iPhone 15 手机壳")
    assert matches("iphone15", "iPhone15 手机壳")
    assert matches("mate60", "华为Mate60 手机壳")
    assert matches("iphone150", "iPhone 1500")  # type-ahead on the digits


def test_only_the_last_latin_term_is_a_prefix_and_only_from_three_letters():
    assert plan("hong pin") == [[(("hong", False),)], [(("pin", True),)]]
    assert plan("pg") == [[(("pg", False),)]]
    assert plan("p") == [[(("p", False),)]]
    assert not matches("pin hong", "苹果 红富士")  # pin is not a prefix: it is not the last term
    assert not matches("pg", "pgc 型号")  # too short to be a prefix


def test_chinese_terms_are_never_prefixes():
    assert all(not prefix for group in plan("苹果 车厘") for alternative in group
               for _, prefix in alternative)


def test_particles_are_dropped_from_queries_unless_nothing_else_is_left():
    assert plan("新鲜的苹果") == plan("新鲜 苹果")
    assert matches("新鲜的苹果", "烟台红富士苹果 当季新鲜")
    assert plan("的") == [[(("的", False),)]]


def test_a_query_plan_as_postgresql_tsquery_text():
    assert search.tsquery_text(plan("冰糖心 pingg")) == \
        "(('冰糖')) & (('心')) & (('pingg':*))"
    assert search.tsquery_text(plan("iphone150")) == "(('iphone150':*) | ('iphone' & '150':*))"
    assert search.tsquery_text(plan("猕猴桃")) == "(('猕猴桃') | ('猕猴' & '猴桃'))"


def test_a_query_plan_as_an_sqlite_fts5_match():
    assert search.fts5_match(plan("猕猴桃 mit")) == \
        '(("猕猴桃") OR ("猕猴" AND "猴桃")) AND (("mit"*))'


def test_quotes_and_backslashes_cannot_escape_a_tsvector_lexeme():
    assert search._quote("a'b\\c") == "'a''b\\\\c'"


# --- the PostgreSQL document -------------------------------------------------------------

def test_a_tsvector_gives_each_term_the_weight_of_its_most_important_field():
    fields = search.document_fields("苹果", "苹果 脆甜", ["生鲜水果", "水果"], ["5斤"])
    literal = search.tsvector_literal(fields)
    entries = dict(entry.rsplit(":", 1) for entry in literal.split(" "))
    assert entries["'苹果'"] == "1A"  # in title and subtitle: counted once, as title
    assert entries["'脆甜'"].endswith("B")
    assert entries["'水果'"].endswith("C")
    assert entries["'斤'"].endswith("D")
    assert len(entries) == len(literal.split(" "))


def test_sqlite_gets_title_terms_and_the_rest_apart():
    fields = search.document_fields("苹果", "脆甜", ["水果"], ["5斤"])
    title, body = search.fts5_columns(fields)
    assert "苹果" in title.split() and "pingguo" in title.split()
    assert "脆甜" in body.split() and "水果" in body.split() and "苹果" not in body.split()


# --- listing rules -----------------------------------------------------------------------

def test_relevance_needs_a_query_and_is_the_default_with_one():
    assert search.sort_keys(None, searching=True) == search.SORT_KEYS["relevance"]
    assert search.sort_keys(None, searching=False) == search.SORT_KEYS["newest"]
    assert search.sort_keys("relevance", searching=False) == search.SORT_KEYS["newest"]
    assert search.sort_keys("price_asc", searching=True) == search.SORT_KEYS["price_asc"]


def test_a_search_with_too_many_matches_to_rank_shows_its_best_sellers():
    window = search.MAX_RESULTS
    assert search.sort_keys(None, True, matches=window - 1) == search.SORT_KEYS["relevance"]
    assert search.sort_keys(None, True, matches=window) == search.SORT_KEYS["sales"]
    assert search.sort_keys("price_asc", True, matches=window) == search.SORT_KEYS["price_asc"]


def test_only_narrowed_listings_with_a_known_number_of_matches_sort_them_all():
    window = search.MAX_RESULTS
    assert search.sort_matches(True, None, window - 1)
    assert search.sort_matches(False, True, 10)
    assert not search.sort_matches(True, None, window)  # counted up to the window: unknown
    assert not search.sort_matches(False, False, 10)  # a category or the whole shop: walk


def test_every_sort_ends_in_the_product_id_so_pages_are_stable():
    assert all(keys[-1][0] == "product_id" for keys in search.SORT_KEYS.values())


def test_an_unknown_sort_is_refused_with_details():
    with pytest.raises(BadRequest) as raised:
        search.sort_keys("cheapest", searching=False)
    assert list(raised.value.details) == ["sort"]


def test_min_price_above_max_price_is_refused():
    search.check_listing(100, 100, 1, 20)
    search.check_listing(None, 100, 1, 20)
    with pytest.raises(BadRequest) as raised:
        search.check_listing(500, 100, 1, 20)
    assert list(raised.value.details) == ["min_price"]


def test_listings_page_up_to_their_result_window():
    search.check_page(search.MAX_RESULTS // 20, 20)  # the last page that starts inside
    with pytest.raises(BadRequest) as raised:
        search.check_page(search.MAX_RESULTS // 20 + 1, 20)
    assert "the last page is 250" in raised.value.details["page"][0]
    with pytest.raises(BadRequest):
        search.check_listing(None, None, search.MAX_RESULTS // 50 + 1, 50)


@pytest.mark.parametrize("price, market_price, off", [
    (2990, 3990, 1 - 2990 / 3990), (1000, 1000, 0.0), (1000, None, 0.0), (9999, 10000, 0.0001)])
def test_discount_is_the_share_taken_off_the_market_price(price, market_price, off):
    assert search.discount(price, market_price) == pytest.approx(off)
    assert (search.discount(price, market_price) > 0) == ((market_price or 0) > price)


T0 = datetime(2024, 6, 28, 12, tzinfo=timezone.utc)


def campaign(product_id, prices, starts_at=T0, ends_at=datetime(2024, 7, 1, tzinfo=timezone.utc),
             invalidated=False):
    return {"product_id": product_id, "starts_at": starts_at, "ends_at": ends_at,
            "invalidated": invalidated,
            "group_prices": [{"sku_id": i, "group_price": p} for i, p in enumerate(prices)]}


def test_the_group_price_shown_is_the_lowest_of_the_running_campaigns():
    campaigns = [campaign(1, [1990, 1790]), campaign(1, [1590], starts_at=datetime(2024, 6, 29,
                                                                                   tzinfo=timezone.utc)),
                 campaign(2, [990], invalidated=True), campaign(3, [])]
    assert search.lowest_group_prices(campaigns, T0, domain.campaign_running) == {1: 1790}
    later = datetime(2024, 6, 30, tzinfo=timezone.utc)
    assert search.lowest_group_prices(campaigns, later, domain.campaign_running) == {1: 1590}


def test_hot_counts_the_last_seven_days_today_included():
    assert search.hot_days(T0) == (date(2024, 6, 22), date(2024, 6, 28))


def test_home_sections_are_named_and_an_unknown_one_is_not_found():
    assert list(search.SECTIONS) == ["recommended", "hot", "specials", "group_buy",
                                     "new_arrivals"]
    search.check_section("hot")
    with pytest.raises(NotFound) as raised:
        search.check_section("cheap")
    assert raised.value.code == "section_not_found"
