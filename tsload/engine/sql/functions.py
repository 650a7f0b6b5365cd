"""The Timestream query-language function reference, function by function: supported or refused.

One row per function of the AWS developer guide's lists (string, array, bitwise, regex, date/time,
aggregate, window, math, conditional, conversion, time series, interpolation). A supported row
carries an example and the (type, ScalarValue) Timestream gives for it, run by
tests/engine_sql/test_functions.py; a refused function is refused by name before DuckDB sees the
query. docs/engine-sql.md's coverage table is checked against this list by the same test.

The list is written as a table parsed at import, one function a line, because 204 constructor calls
repeating the category and the argument names hid the data; the parser refuses a malformed row, so a
typo fails at import rather than dropping a function.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Fn:
    category: str
    name: str
    example: str | None = None  # a SELECT-list expression; None: refused
    type: str = ""  # the ScalarType (or ARRAY(<type>)) of the example's result
    value: str = ""  # its ScalarValue (arrays: the elements joined by ',')
    note: str = ""

    @property
    def supported(self) -> bool:
        return self.example is not None


_TS = "TIMESTAMP '2024-03-05 06:07:08.123456789'"

# `[category]` starts a category; then one function a line:
#   name | example | type | value | note (optional)    supported: the test runs the example
#   name | - | note (optional)                          supported, tested in test_timeseries.py
#   name | refused | note (optional)                    refused by name
# A line starting with `|` continues the row above. `$TS` in an example stands for _TS. A value in
# single quotes is the text between them (edge spaces kept; '' is no ScalarValue, i.e. NULL).
# Aggregate and window examples run over x = 1, 2, 2, 3; a window example's value is the row x = 3's.
_TABLE = r"""
[string]
chr                | chr(65) | VARCHAR | A
codepoint          | codepoint('A') | BIGINT | 65
concat             | concat('ab', 'cd', 'e') | VARCHAR | abcde
hamming_distance   | hamming_distance('abcde', 'abxdy') | BIGINT | 2
length             | length('héllo') | BIGINT | 5
levenshtein_distance | levenshtein_distance('kitten', 'sitting') | BIGINT | 3
lower              | lower('AbC') | VARCHAR | abc
lpad               | lpad('7', 3, '0') | VARCHAR | 007
ltrim              | ltrim('  ab ') | VARCHAR | 'ab '
replace            | replace('a-b-c', '-', '+') | VARCHAR | a+b+c
reverse            | reverse('abc') | VARCHAR | cba
rpad               | rpad('7', 3, '0') | VARCHAR | 700
rtrim              | rtrim(' ab  ') | VARCHAR | ' ab'
split              | split('a,b,c', ',') | ARRAY(VARCHAR) | a,b,c
split_part         | split_part('a,b,c', ',', 2) | VARCHAR | b
strpos             | strpos('hello', 'l') | BIGINT | 3
position           | position('l' IN 'hello') | BIGINT | 3
substr             | substr('hello', 2, 3) | VARCHAR | ell
trim               | trim('  ab  ') | VARCHAR | ab
upper              | upper('abc') | VARCHAR | ABC
[array]
array_distinct     | array_distinct(ARRAY[1, 2, 2, 3]) | ARRAY(BIGINT) | 1,2,3
array_intersect    | array_intersect(ARRAY[1, 2, 3], ARRAY[2, 3, 4]) | ARRAY(BIGINT) | 2,3
array_union        | array_union(ARRAY[1, 2], ARRAY[2, 3]) | ARRAY(BIGINT) | 1,2,3
array_except       | array_except(ARRAY[1, 2, 3], ARRAY[2]) | ARRAY(BIGINT) | 1,3
array_join         | array_join(ARRAY['a', 'b'], '-') | VARCHAR | a-b
array_max          | array_max(ARRAY[1, 5, 3]) | BIGINT | 5
array_min          | array_min(ARRAY[4, 2, 3]) | BIGINT | 2
array_position     | array_position(ARRAY[5, 6, 7], 6) | BIGINT | 2
array_remove       | array_remove(ARRAY[1, 2, 1], 1) | ARRAY(BIGINT) | 2
array_sort         | array_sort(ARRAY[3, 1, 2]) | ARRAY(BIGINT) | 1,2,3
arrays_overlap     | arrays_overlap(ARRAY[1, 2], ARRAY[2, 3]) | BOOLEAN | true
cardinality        | cardinality(ARRAY[1, 2, 3]) | BIGINT | 3
contains           | contains(ARRAY[1, 2], 2) | BOOLEAN | true
element_at         | element_at(ARRAY[5, 6, 7], 2) | BIGINT | 6
filter             | filter(ARRAY[1, 2, 3, 4], x -> x > 2) | ARRAY(BIGINT) | 3,4
                   | arrays only: on a TIMESERIES refused (see Time series)
flatten            | flatten(ARRAY[ARRAY[1, 2], ARRAY[3]]) | ARRAY(BIGINT) | 1,2,3
reduce             | reduce(ARRAY[1, 2, 3], 0, (s, x) -> s + x, s -> s) | BIGINT | 6
                   | arrays only: on a TIMESERIES refused
sequence           | sequence(1, 5, 2) | ARRAY(BIGINT) | 1,3,5
shuffle            | refused | random order: not reproducible
slice              | slice(ARRAY[1, 2, 3, 4], 2, 2) | ARRAY(BIGINT) | 2,3
transform          | transform(ARRAY[1, 2], x -> x * 10) | ARRAY(BIGINT) | 10,20
                   | arrays only: on a TIMESERIES refused
zip                | refused | rows of arrays not mapped
zip_with           | refused
[bitwise]
bit_count          | bit_count(9, 64) | BIGINT | 2
bitwise_and        | bitwise_and(12, 10) | BIGINT | 8
bitwise_not        | bitwise_not(0) | BIGINT | -1
bitwise_or         | bitwise_or(12, 10) | BIGINT | 14
bitwise_xor        | bitwise_xor(12, 10) | BIGINT | 6
[regex]
regexp_extract     | regexp_extract('example expect', 'ex\w') | VARCHAR | exa
                   | no match: NULL (as Trino)
regexp_extract_all | regexp_extract_all('example expect complex', 'ex\w') | ARRAY(VARCHAR) | exa,exp
regexp_like        | regexp_like('example', 'ex') | BOOLEAN | true
regexp_replace     | regexp_replace('example expect', 'expect') | VARCHAR | 'example '
                   | every match replaced (as Trino)
regexp_split       | regexp_split('a1b22c', '\d+') | ARRAY(VARCHAR) | a,b,c
[date/time]
ago                | ago(0s) = now() | BOOLEAN | true
bin                | bin($TS, 1h) | TIMESTAMP | 2024-03-05 06:00:00.000000000
current_date       | current_date = date(now()) | BOOLEAN | true
current_time       | refused | TIME values not supported
current_timestamp  | current_timestamp = now() | BOOLEAN | true
current_timezone   | current_timezone() | VARCHAR | UTC
date               | date($TS) | DATE | 2024-03-05
date_add           | date_add('hour', 2, $TS) | TIMESTAMP | 2024-03-05 08:07:08.123456789
date_diff          | date_diff('minute', TIMESTAMP '2024-01-01 00:00:00', TIMESTAMP '2024-01-01 01:30:00')
                   | BIGINT | 90
date_format        | date_format($TS, '%Y-%m-%d %H:%i:%s') | VARCHAR | 2024-03-05 06:07:08
                   | MySQL-style specifiers %Y %m %d %H %i %s %f %b %a %p %j %y %T %e %c %k %l %h %M %W %r
date_parse         | date_parse('2024-03-05 06:07', '%Y-%m-%d %H:%i') | TIMESTAMP
                   | 2024-03-05 06:07:00.000000000
date_trunc         | date_trunc('minute', $TS) | TIMESTAMP | 2024-03-05 06:07:00.000000000
day                | day($TS) | BIGINT | 5
day_of_month       | day_of_month($TS) | BIGINT | 5
day_of_week        | day_of_week($TS) | BIGINT | 2 | ISO: Monday = 1
day_of_year        | day_of_year($TS) | BIGINT | 65
dow                | dow($TS) | BIGINT | 2
doy                | doy($TS) | BIGINT | 65
extract            | extract(hour FROM $TS) | BIGINT | 6
format_datetime    | refused | Joda patterns not mapped: use date_format
from_iso8601_date  | from_iso8601_date('2024-03-05') | DATE | 2024-03-05
from_iso8601_timestamp | from_iso8601_timestamp('2024-03-05T06:07:08.5+01:00') | TIMESTAMP
                   | 2024-03-05 05:07:08.500000000 | converted to UTC
from_milliseconds  | from_milliseconds(1709618828123) | TIMESTAMP | 2024-03-05 06:07:08.123000000
from_nanoseconds   | from_nanoseconds(1709618828123456789) | TIMESTAMP
                   | 2024-03-05 06:07:08.123456789
from_unixtime      | from_unixtime(1709618828) | TIMESTAMP | 2024-03-05 06:07:08.000000000
hour               | hour($TS) | BIGINT | 6
human_readable_seconds | human_readable_seconds(56363463) | VARCHAR
                   | 93 weeks, 1 day, 8 hours, 31 minutes, 3 seconds
last_day_of_month  | last_day_of_month($TS) | DATE | 2024-03-31
localtime          | refused | TIME values not supported
localtimestamp     | localtimestamp = now() | BOOLEAN | true
millisecond        | millisecond($TS) | BIGINT | 123
minute             | minute($TS) | BIGINT | 7
month              | month($TS) | BIGINT | 3
nanosecond         | nanosecond(from_nanoseconds(1709618828123456789)) | BIGINT | 123456789
                   | of the second; a TIMESTAMP literal holds microseconds (stored times keep nanoseconds)
now                | now() = current_timestamp | BOOLEAN | true
parse_datetime     | refused | Joda patterns not mapped: use date_parse
parse_duration     | refused
quarter            | quarter($TS) | BIGINT | 1
second             | second($TS) | BIGINT | 8
to_iso8601         | to_iso8601($TS) | VARCHAR | 2024-03-05T06:07:08.123456789Z
to_milliseconds    | to_milliseconds($TS) | BIGINT | 1709618828123
to_nanoseconds     | to_nanoseconds($TS) | BIGINT | 1709618828123456789
to_unixtime        | to_unixtime(TIMESTAMP '2024-03-05 06:07:08.5') | DOUBLE | 1.7096188285E9
week               | week($TS) | BIGINT | 10
week_of_year       | week_of_year($TS) | BIGINT | 10
year               | year($TS) | BIGINT | 2024
year_of_week       | year_of_week($TS) | BIGINT | 2024
yow                | yow($TS) | BIGINT | 2024
[aggregate]
approx_distinct    | approx_distinct(x) | BIGINT | 3 | exact count
approx_percentile  | approx_percentile(x, 0.5) | BIGINT | 2
                   | exact nearest rank, within any error bound of Timestream's digest
arbitrary          | arbitrary(x) IN (1, 2, 3) | BOOLEAN | true
array_agg          | array_agg(x ORDER BY x) | ARRAY(BIGINT) | 1,2,2,3
avg                | avg(x) | DOUBLE | 2.0
bool_and           | bool_and(x > 0) | BOOLEAN | true
bool_or            | bool_or(x > 2) | BOOLEAN | true
bitwise_and_agg    | bitwise_and_agg(x) | BIGINT | 0
bitwise_or_agg     | bitwise_or_agg(x) | BIGINT | 3
checksum           | refused
corr               | corr(x, x) | DOUBLE | 1.0
count              | count(x) | BIGINT | 4
count_if           | count_if(x > 1) | BIGINT | 3
covar_pop          | covar_pop(x, x) | DOUBLE | 0.5
covar_samp         | covar_samp(x, x) | DOUBLE | 0.6666666666666666
every              | every(x > 0) | BOOLEAN | true
geometric_mean     | geometric_mean(x) | DOUBLE | 1.8612097182041991
histogram          | refused | MAP results not supported
kurtosis           | kurtosis(x) | DOUBLE | 1.5
map_agg            | refused | MAP results not supported
map_union          | refused | MAP results not supported
max                | max(x) | BIGINT | 3
max_by             | max_by(x * 10, x) | BIGINT | 30
min                | min(x) | BIGINT | 1
min_by             | min_by(x * 10, x) | BIGINT | 10
multimap_agg       | refused | MAP results not supported
numeric_histogram  | refused | MAP results not supported
regr_intercept     | regr_intercept(x, x) | DOUBLE | 0.0
regr_slope         | regr_slope(x, x) | DOUBLE | 1.0
skewness           | skewness(x) | DOUBLE | 0.0
stddev             | stddev(x) | DOUBLE | 0.816496580927726 | sample
stddev_pop         | stddev_pop(x) | DOUBLE | 0.7071067811865476
stddev_samp        | stddev_samp(x) | DOUBLE | 0.816496580927726
sum                | sum(x) | BIGINT | 8
var_pop            | var_pop(x) | DOUBLE | 0.5
var_samp           | var_samp(x) | DOUBLE | 0.6666666666666666
variance           | variance(x) | DOUBLE | 0.6666666666666666 | sample
[window]
cume_dist          | cume_dist() OVER (ORDER BY x) | DOUBLE | 1.0
dense_rank         | dense_rank() OVER (ORDER BY x) | BIGINT | 3
first_value        | first_value(x) OVER (ORDER BY x) | BIGINT | 1
lag                | lag(x) OVER (ORDER BY x) | BIGINT | 2
last_value         | last_value(x) OVER (ORDER BY x) | BIGINT | 3
lead               | lead(x) OVER (ORDER BY x) | BIGINT | '' | NULL after the last row
nth_value          | nth_value(x, 2) OVER (ORDER BY x) | BIGINT | 2
ntile              | ntile(2) OVER (ORDER BY x) | BIGINT | 2
percent_rank       | percent_rank() OVER (ORDER BY x) | DOUBLE | 1.0
rank               | rank() OVER (ORDER BY x) | BIGINT | 4
row_number         | row_number() OVER (ORDER BY x) | BIGINT | 4
[math]
abs                | abs(-3) | BIGINT | 3
acos               | acos(1) | DOUBLE | 0.0
asin               | asin(0) | DOUBLE | 0.0
atan               | atan(0) | DOUBLE | 0.0
atan2              | atan2(0, 1) | DOUBLE | 0.0
cbrt               | cbrt(27.0) | DOUBLE | 3.0
ceil               | ceil(1.2E0) | DOUBLE | 2.0
ceiling            | ceiling(1.2E0) | DOUBLE | 2.0
cos                | cos(0) | DOUBLE | 1.0
cosh               | cosh(0) | DOUBLE | 1.0
degrees            | degrees(0) | DOUBLE | 0.0
e                  | e() | DOUBLE | 2.718281828459045
exp                | exp(0) | DOUBLE | 1.0
floor              | floor(1.8E0) | DOUBLE | 1.0
from_base          | from_base('-7f', 16) | BIGINT | -127
infinity           | infinity() | DOUBLE | Infinity
is_finite          | is_finite(1.0E0) | BOOLEAN | true
is_infinite        | is_infinite(infinity()) | BOOLEAN | true
is_nan             | is_nan(nan()) | BOOLEAN | true
ln                 | ln(1) | DOUBLE | 0.0
log10              | log10(1000) | DOUBLE | 3.0
log2               | log2(8) | DOUBLE | 3.0
mod                | mod(7, 3) | BIGINT | 1
nan                | is_nan(nan()) | BOOLEAN | true
pi                 | pi() | DOUBLE | 3.141592653589793
pow                | pow(2, 10) | DOUBLE | 1024.0
power              | power(2, 10) | DOUBLE | 1024.0
radians            | radians(0) | DOUBLE | 0.0
rand               | rand() < 1.0E0 | BOOLEAN | true
random             | random() < 1.0E0 | BOOLEAN | true
round              | round(2.345E0, 2) | DOUBLE | 2.35
sign               | sign(-5) | BIGINT | -1
sin                | sin(0) | DOUBLE | 0.0
sqrt               | sqrt(16) | DOUBLE | 4.0
tan                | tan(0) | DOUBLE | 0.0
tanh               | tanh(0) | DOUBLE | 0.0
to_base            | to_base(255, 16) | VARCHAR | ff
truncate           | truncate(2.7E0) | DOUBLE | 2.0
[conditional]
coalesce           | coalesce(NULL, 2) | BIGINT | 2
if                 | if(1 < 2, 'yes', 'no') | VARCHAR | yes
nullif             | nullif(1, 1) | BIGINT | ''
try                | try(7 / 0) | BIGINT | '' | NULL where the expression fails (DuckDB TRY)
[conversion]
cast               | cast('12' AS BIGINT) | BIGINT | 12
try_cast           | try_cast('x' AS BIGINT) | BIGINT | ''
[time series]
create_time_series | - | see Time series
unnest             | - | of a TIMESERIES only, see Time series
derivative_linear  | - | see Time series
non_negative_derivative_linear | - | see Time series
integral_trapezoidal | - | see Time series
correlate_pearson  | - | see Time series
correlate_spearman | - | see Time series
[interpolation]
interpolate_linear | - | see Time series
interpolate_locf   | - | see Time series
interpolate_fill   | - | see Time series
interpolate_spline_cubic | refused
"""


def _rows(table: str) -> Iterator[tuple[str, list[str]]]:
    """(category, fields) for each row of `table`, continuation lines joined."""
    lines: list[str] = []
    for line in table.strip().splitlines():
        if line.lstrip().startswith("|"):
            lines[-1] += " " + line.strip()
        else:
            lines.append(line.strip())
    category = ""
    for line in lines:
        if line.startswith("["):
            category = line.strip("[]")
        else:
            yield category, [f.strip() for f in line.split("|")]


# the example column of a row with no example to run: what Fn.example holds for it
_NO_EXAMPLE: dict[str, str | None] = {"refused": None, "-": ""}


def _fn(category: str, fields: list[str]) -> Fn:
    bare = len(fields) >= 2 and fields[1] in _NO_EXAMPLE
    if not (2 <= len(fields) <= 3 if bare else 4 <= len(fields) <= 5):
        raise ValueError(f"tsload.engine.sql.functions: malformed row {' | '.join(fields)!r}")
    if bare:
        return Fn(category, fields[0], _NO_EXAMPLE[fields[1]], note="".join(fields[2:]))
    name, example, typ, value, *note = fields
    if len(value) >= 2 and value[0] == value[-1] == "'":
        value = value[1:-1]
    return Fn(category, name, example.replace("$TS", _TS), typ, value, "".join(note))


FUNCTIONS: tuple[Fn, ...] = tuple(_fn(category, fields) for category, fields in _rows(_TABLE))

REFUSED = frozenset(f.name for f in FUNCTIONS if not f.supported)
