/*
 * Tests of weft_json.h, the C SDK's byte buffer and JSON reader/writer,
 * compiled natively (no Wasm, no bindings) by ../test.sh.
 */
#include <stdio.h>

#include "check.h"
#include "weft_json.h"

static const uint8_t *u8(const char *s) {
  return (const uint8_t *)s;
}

/* The buffer holds exactly the C string `want`. */
static bool buf_is(weft_buf_t *b, const char *want) {
  return b->len == strlen(want) && memcmp(b->ptr, want, b->len) == 0;
}

static void test_buffer(void) {
  weft_buf_t b = {0};
  weft_buf_puts(&b, "n=");
  weft_buf_put_u64(&b, 0);
  weft_buf_putc(&b, ',');
  weft_buf_put_u64(&b, UINT64_MAX);
  for (int i = 0; i < 100; i++) weft_buf_putc(&b, 'x'); /* grows past 64 */
  CHECK(b.len == 2 + 1 + 1 + 20 + 100);
  CHECK(memcmp(b.ptr, "n=0,18446744073709551615x", 25) == 0);
  CHECK(strlen(weft_buf_cstr(&b)) == b.len);
  weft_buf_free(&b);
  CHECK(b.ptr == NULL && b.len == 0 && b.cap == 0);
  CHECK(weft_contains(u8("order-decline-1"), 15, "decline"));
  CHECK(!weft_contains(u8("dec"), 3, "decline"));
}

static void test_write(void) {
  weft_buf_t b = {0};
  const char raw[] = "a\"b\\c\nd\re\tf\x01g\x1f/\xc3\xa9";
  weft_json_put_string(&b, u8(raw), sizeof raw - 1);
  CHECK(buf_is(&b, "\"a\\\"b\\\\c\\nd\\re\\tf\\u0001g\\u001f/\xc3\xa9\""));
  /* What it writes reads back as the same text. */
  weft_buf_t back = {0};
  CHECK(weft_json_as_string(b.ptr, b.len, &back));
  CHECK(back.len == sizeof raw - 1 && memcmp(back.ptr, raw, back.len) == 0);
  weft_buf_free(&back);
  b.len = 0;
  weft_buf_putc(&b, '{');
  weft_json_put_key(&b, "k");
  weft_json_put_string(&b, u8(""), 0);
  weft_buf_putc(&b, '}');
  CHECK(buf_is(&b, "{\"k\":\"\"}"));
  CHECK(weft_json_valid(b.ptr, b.len));
  weft_buf_free(&b);
}

static bool valid(const char *json) {
  return weft_json_valid(u8(json), strlen(json));
}

static void test_valid(void) {
  const char *good[] = {
      "0", "-0", "1.5", "-12.25e+3", "1E5", "true", "false", "null", "\"\"", " [ ] ", "{}",
      "[1,[2,{\"a\":[]}],\"x\"]", "{\"a\":1,\"b\":{\"c\":null}}", "\"\\u00e9\\ud83d\\ude00\"",
      "\t\n\r 7 \n",
  };
  for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
    if (!valid(good[i])) fprintf(stderr, "should be valid: %s\n", good[i]);
    CHECK(valid(good[i]));
  }
  const char *bad[] = {
      "", " ", "01", "1.", ".5", "1e", "+1", "-", "tru", "nul", "[1,]", "[1 2]", "{\"a\"}",
      "{\"a\":}", "{a:1}", "{\"a\":1,}", "\"abc", "\"\\x\"", "\"\\u12\"", "\"a\nb\"",
      "\"\\udc00\"", "\"\\ud83d\"", "\"\\ud83d\\u0041\"", "1 2", "[", "{", "[]]", "nullx",
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    if (valid(bad[i])) fprintf(stderr, "should be invalid: %s\n", bad[i]);
    CHECK(!valid(bad[i]));
  }
  /* Nesting: up to the limit is fine, beyond it is refused (no deep stack). */
  char deep[2 * (WEFT_JSON_MAX_DEPTH + 2) + 1];
  for (int depth = WEFT_JSON_MAX_DEPTH; depth <= WEFT_JSON_MAX_DEPTH + 1; depth++) {
    int n = depth + 1;
    memset(deep, '[', (size_t)n);
    memset(deep + n, ']', (size_t)n);
    deep[2 * n] = 0;
    CHECK(valid(deep) == (depth <= WEFT_JSON_MAX_DEPTH));
  }
}

static bool as_string(const char *json, weft_buf_t *out) {
  return weft_json_as_string(u8(json), strlen(json), out);
}

static void test_as_string(void) {
  weft_buf_t out = {0};
  CHECK(as_string(" \"a\\/b\\u0041\\ud83d\\ude00\" ", &out));
  CHECK(buf_is(&out, "a/bA\xf0\x9f\x98\x80"));
  out.len = 0;
  CHECK(as_string("\"\\u0000\"", &out));
  CHECK(out.len == 1 && out.ptr[0] == 0);
  out.len = 0;
  CHECK(!as_string("\"a\" 1", &out));
  CHECK(!as_string("1", &out));
  CHECK(!as_string("[\"a\"]", &out));
  weft_buf_free(&out);
}

static bool as_u64(const char *json, uint64_t *n) {
  return weft_json_as_u64(u8(json), strlen(json), n);
}

static void test_as_u64(void) {
  uint64_t n = 7;
  CHECK(as_u64("0", &n) && n == 0);
  CHECK(as_u64(" 1000 ", &n) && n == 1000);
  CHECK(as_u64("18446744073709551615", &n) && n == UINT64_MAX);
  n = 7;
  const char *bad[] = {"18446744073709551616", "-1", "1.0", "1e3", "01", "", " ", "\"1\"", "1 2"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) CHECK(!as_u64(bad[i], &n));
  CHECK(n == 7); /* left alone on failure */
}

static bool get(const char *json, const char *key, const char *want) {
  const uint8_t *value;
  size_t len;
  if (!weft_json_get(u8(json), strlen(json), key, &value, &len)) return want == NULL;
  return want && len == strlen(want) && memcmp(value, want, len) == 0;
}

static void test_get(void) {
  const char *obj = "{ \"a\" : 1, \"b\":{\"a\":2}, \"c\":[1, \"x\"], \"e\\u0301\":true }";
  CHECK(get(obj, "a", "1"));
  CHECK(get(obj, "b", "{\"a\":2}"));
  CHECK(get(obj, "c", "[1, \"x\"]"));
  CHECK(get(obj, "e\xcc\x81", "true")); /* keys are compared decoded */
  CHECK(get(obj, "d", NULL));
  CHECK(get("{\"a\":1,\"a\":2}", "a", "2")); /* the last duplicate wins */
  CHECK(get("{}", "a", NULL));
  CHECK(get("[1]", "a", NULL));
  CHECK(get("{\"a\":}", "a", NULL));
  CHECK(get("{\"a\":1,", "a", "1")); /* what was read before the error counts */
}

int main(void) {
  test_buffer();
  test_write();
  test_valid();
  test_as_string();
  test_as_u64();
  test_get();
  if (failures) {
    fprintf(stderr, "weft_json.h: %d checks failed\n", failures);
    return 1;
  }
  printf("weft_json.h: all checks passed\n");
  return 0;
}
