/*
 * weft_json.h: the byte buffer and the JSON reader and writer of the C guest
 * SDK (weft.h includes it). It needs only the C library, no bindings, so
 * tests/json_test.c compiles it natively and tests it.
 *
 * Everything here is `static` so that the header is the whole library; an
 * out-of-memory condition traps (abort), which fails only the current task.
 */
#ifndef WEFT_JSON_H
#define WEFT_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define WEFT_UNUSED __attribute__((unused))

/* ---------------------------------------------------------------- memory */

/* malloc that traps instead of returning NULL. */
WEFT_UNUSED static void *weft_alloc(size_t size) {
  void *ptr = malloc(size ? size : 1);
  if (!ptr) abort();
  return ptr;
}

/* A growable byte buffer. Zero-initialise it: `weft_buf_t b = {0};`. */
typedef struct {
  uint8_t *ptr;
  size_t len;
  size_t cap;
} weft_buf_t;

WEFT_UNUSED static void weft_buf_reserve(weft_buf_t *b, size_t extra) {
  if (b->len + extra <= b->cap) return;
  size_t cap = b->cap ? b->cap * 2 : 64;
  while (cap < b->len + extra) cap *= 2;
  uint8_t *ptr = realloc(b->ptr, cap);
  if (!ptr) abort();
  b->ptr = ptr;
  b->cap = cap;
}

WEFT_UNUSED static void weft_buf_append(weft_buf_t *b, const void *data, size_t len) {
  if (len == 0) return;
  weft_buf_reserve(b, len);
  memcpy(b->ptr + b->len, data, len);
  b->len += len;
}

WEFT_UNUSED static void weft_buf_puts(weft_buf_t *b, const char *s) {
  weft_buf_append(b, s, strlen(s));
}

WEFT_UNUSED static void weft_buf_putc(weft_buf_t *b, char c) {
  weft_buf_append(b, &c, 1);
}

/* Decimal digits of `n`. */
WEFT_UNUSED static void weft_buf_put_u64(weft_buf_t *b, uint64_t n) {
  char digits[20];
  size_t i = sizeof digits;
  do {
    digits[--i] = (char)('0' + n % 10);
    n /= 10;
  } while (n);
  weft_buf_append(b, digits + i, sizeof digits - i);
}

/* NUL-terminates the buffer (not counted in len) and returns it as a C
 * string. The bytes stay owned by the buffer. */
WEFT_UNUSED static char *weft_buf_cstr(weft_buf_t *b) {
  weft_buf_reserve(b, 1);
  b->ptr[b->len] = 0;
  return (char *)b->ptr;
}

WEFT_UNUSED static void weft_buf_free(weft_buf_t *b) {
  free(b->ptr);
  b->ptr = NULL;
  b->len = b->cap = 0;
}

/* True when the `len` bytes at `data` contain the C string `needle`. */
WEFT_UNUSED static bool weft_contains(const uint8_t *data, size_t len, const char *needle) {
  size_t n = strlen(needle);
  for (size_t i = 0; n <= len && i <= len - n; i++) {
    if (memcmp(data + i, needle, n) == 0) return true;
  }
  return false;
}

/* ------------------------------------------------------------ JSON write */

/* Appends `s` (`len` bytes of UTF-8) as a JSON string literal. */
WEFT_UNUSED static void weft_json_put_string(weft_buf_t *b, const uint8_t *s, size_t len) {
  static const char hex[] = "0123456789abcdef";
  weft_buf_putc(b, '"');
  for (size_t i = 0; i < len; i++) {
    uint8_t c = s[i];
    switch (c) {
      case '"': weft_buf_puts(b, "\\\""); break;
      case '\\': weft_buf_puts(b, "\\\\"); break;
      case '\n': weft_buf_puts(b, "\\n"); break;
      case '\r': weft_buf_puts(b, "\\r"); break;
      case '\t': weft_buf_puts(b, "\\t"); break;
      default:
        if (c < 0x20) {
          char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
          weft_buf_append(b, esc, sizeof esc);
        } else {
          weft_buf_putc(b, (char)c);
        }
    }
  }
  weft_buf_putc(b, '"');
}

/* Appends `"key":` to an object being written (no comma). */
WEFT_UNUSED static void weft_json_put_key(weft_buf_t *b, const char *key) {
  weft_json_put_string(b, (const uint8_t *)key, strlen(key));
  weft_buf_putc(b, ':');
}

/* ------------------------------------------------------------- JSON read */

/* Nesting deeper than this is rejected rather than risking the stack. */
#define WEFT_JSON_MAX_DEPTH 64

WEFT_UNUSED static const uint8_t *weft_json_ws(const uint8_t *p, const uint8_t *end) {
  while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) p++;
  return p;
}

WEFT_UNUSED static int weft_json_hex4(const uint8_t *p, const uint8_t *end) {
  if (end - p < 4) return -1;
  int v = 0;
  for (int i = 0; i < 4; i++) {
    uint8_t c = p[i];
    int d = c >= '0' && c <= '9'   ? c - '0'
            : c >= 'a' && c <= 'f' ? c - 'a' + 10
            : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                   : -1;
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

WEFT_UNUSED static void weft_utf8_put(weft_buf_t *b, uint32_t cp) {
  uint8_t u[4];
  size_t n;
  if (cp < 0x80) {
    u[0] = (uint8_t)cp, n = 1;
  } else if (cp < 0x800) {
    u[0] = (uint8_t)(0xC0 | cp >> 6), u[1] = (uint8_t)(0x80 | (cp & 0x3F)), n = 2;
  } else if (cp < 0x10000) {
    u[0] = (uint8_t)(0xE0 | cp >> 12), u[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
    u[2] = (uint8_t)(0x80 | (cp & 0x3F)), n = 3;
  } else {
    u[0] = (uint8_t)(0xF0 | cp >> 18), u[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3F));
    u[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3F)), u[3] = (uint8_t)(0x80 | (cp & 0x3F)), n = 4;
  }
  weft_buf_append(b, u, n);
}

/* Reads the JSON string literal at `p` (which must be at its opening quote)
 * and returns the byte after it, or NULL if it is not a valid string. With
 * `out`, the decoded UTF-8 text (escapes resolved) is appended to it. */
WEFT_UNUSED static const uint8_t *weft_json_read_string(const uint8_t *p, const uint8_t *end,
                                                        weft_buf_t *out) {
  if (p >= end || *p != '"') return NULL;
  for (p++; p < end; p++) {
    uint8_t c = *p;
    if (c == '"') return p + 1;
    if (c < 0x20) return NULL; /* raw control characters are not allowed */
    if (c != '\\') {
      if (out) weft_buf_putc(out, (char)c);
      continue;
    }
    if (++p >= end) return NULL;
    char simple = 0;
    switch (*p) {
      case '"': simple = '"'; break;
      case '\\': simple = '\\'; break;
      case '/': simple = '/'; break;
      case 'b': simple = '\b'; break;
      case 'f': simple = '\f'; break;
      case 'n': simple = '\n'; break;
      case 'r': simple = '\r'; break;
      case 't': simple = '\t'; break;
      case 'u': {
        int hi = weft_json_hex4(p + 1, end);
        if (hi < 0) return NULL;
        p += 4;
        uint32_t cp = (uint32_t)hi;
        if (hi >= 0xD800 && hi <= 0xDBFF) { /* a surrogate pair: \uD83D\uDE00 */
          if (end - p < 7 || p[1] != '\\' || p[2] != 'u') return NULL;
          int lo = weft_json_hex4(p + 3, end);
          if (lo < 0xDC00 || lo > 0xDFFF) return NULL;
          p += 6;
          cp = 0x10000 + (((uint32_t)hi - 0xD800) << 10) + ((uint32_t)lo - 0xDC00);
        } else if (hi >= 0xDC00 && hi <= 0xDFFF) {
          return NULL; /* a lone low surrogate */
        }
        if (out) weft_utf8_put(out, cp);
        continue;
      }
      default: return NULL;
    }
    if (out) weft_buf_putc(out, simple);
  }
  return NULL; /* unterminated */
}

/* Skips one JSON value at `p` (after whitespace) and returns the byte after
 * it, or NULL if the text there is not a valid JSON value. */
WEFT_UNUSED static const uint8_t *weft_json_skip_at(const uint8_t *p, const uint8_t *end, int depth) {
  p = weft_json_ws(p, end);
  if (p >= end || depth > WEFT_JSON_MAX_DEPTH) return NULL;
  switch (*p) {
    case '"': return weft_json_read_string(p, end, NULL);
    case '{':
    case '[': {
      uint8_t close = *p == '{' ? '}' : ']';
      bool object = *p == '{';
      p = weft_json_ws(p + 1, end);
      if (p < end && *p == close) return p + 1;
      for (;;) {
        if (object) {
          p = weft_json_read_string(weft_json_ws(p, end), end, NULL);
          if (!p) return NULL;
          p = weft_json_ws(p, end);
          if (p >= end || *p != ':') return NULL;
          p++;
        }
        p = weft_json_skip_at(p, end, depth + 1);
        if (!p) return NULL;
        p = weft_json_ws(p, end);
        if (p >= end) return NULL;
        if (*p == close) return p + 1;
        if (*p != ',') return NULL;
        p++;
      }
    }
    case 't': return end - p >= 4 && memcmp(p, "true", 4) == 0 ? p + 4 : NULL;
    case 'f': return end - p >= 5 && memcmp(p, "false", 5) == 0 ? p + 5 : NULL;
    case 'n': return end - p >= 4 && memcmp(p, "null", 4) == 0 ? p + 4 : NULL;
    default: { /* a number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
      if (*p == '-') p++;
      if (p >= end) return NULL;
      if (*p == '0') {
        p++;
      } else if (*p >= '1' && *p <= '9') {
        while (p < end && *p >= '0' && *p <= '9') p++;
      } else {
        return NULL;
      }
      if (p < end && *p == '.') {
        const uint8_t *digits = ++p;
        while (p < end && *p >= '0' && *p <= '9') p++;
        if (p == digits) return NULL;
      }
      if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-')) p++;
        const uint8_t *digits = p;
        while (p < end && *p >= '0' && *p <= '9') p++;
        if (p == digits) return NULL;
      }
      return p;
    }
  }
}

/* True when the whole text is exactly one JSON value (whitespace around). */
WEFT_UNUSED static bool weft_json_valid(const uint8_t *json, size_t len) {
  const uint8_t *end = json + len;
  const uint8_t *p = weft_json_skip_at(json, end, 0);
  return p && weft_json_ws(p, end) == end;
}

/* If the whole text is one JSON string, appends its decoded text to `out`
 * and returns true. */
WEFT_UNUSED static bool weft_json_as_string(const uint8_t *json, size_t len, weft_buf_t *out) {
  const uint8_t *end = json + len;
  const uint8_t *p = weft_json_read_string(weft_json_ws(json, end), end, out);
  return p && weft_json_ws(p, end) == end;
}

/* If the whole text is a JSON integer in 0..2^64-1, stores it in `*n`. */
WEFT_UNUSED static bool weft_json_as_u64(const uint8_t *json, size_t len, uint64_t *n) {
  const uint8_t *end = json + len;
  const uint8_t *p = weft_json_ws(json, end);
  const uint8_t *digits = p;
  uint64_t v = 0;
  for (; p < end && *p >= '0' && *p <= '9'; p++) {
    if (v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10) return false; /* overflow */
    v = v * 10 + (uint64_t)(*p - '0');
  }
  if (p == digits || (*digits == '0' && p - digits > 1)) return false;
  if (weft_json_ws(p, end) != end) return false;
  *n = v;
  return true;
}

/* If the text is a JSON object with member `key`, points `*value` and
 * `*value_len` at that member's value (raw JSON text, inside `json`). */
WEFT_UNUSED static bool weft_json_get(const uint8_t *json, size_t len, const char *key,
                                      const uint8_t **value, size_t *value_len) {
  const uint8_t *end = json + len;
  const uint8_t *p = weft_json_ws(json, end);
  if (p >= end || *p != '{') return false;
  p = weft_json_ws(p + 1, end);
  if (p < end && *p == '}') return false;
  bool found = false;
  weft_buf_t name = {0};
  for (;;) {
    name.len = 0;
    p = weft_json_read_string(weft_json_ws(p, end), end, &name);
    if (!p) break;
    p = weft_json_ws(p, end);
    if (p >= end || *p != ':') break;
    const uint8_t *start = weft_json_ws(p + 1, end);
    p = weft_json_skip_at(start, end, 1);
    if (!p) break;
    if (name.len == strlen(key) && memcmp(name.ptr, key, name.len) == 0) {
      *value = start;
      *value_len = (size_t)(p - start);
      found = true; /* the last duplicate wins, as in most parsers */
    }
    p = weft_json_ws(p, end);
    if (p >= end || *p != ',') break;
    p++;
  }
  weft_buf_free(&name);
  return found;
}

#endif /* WEFT_JSON_H */
