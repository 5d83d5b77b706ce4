//! Just enough of Prometheus' text exposition format to read weft's
//! `/metrics`: samples with their labels and each family's `# TYPE`.
//! (A parser crate would turn on chrono's clock and full regex for this one
//! test binary, which changes the features the rest of the workspace builds
//! with, so the unit and end-to-end tiers would each compile Temporal's
//! crates.)

use std::collections::HashMap;

/// One sample line: `metric{label="value",...} value`.
#[derive(Debug)]
pub(crate) struct Sample {
    pub metric: String,
    pub labels: HashMap<String, String>,
    pub value: f64,
}

/// A parsed scrape.
#[derive(Debug)]
pub(crate) struct Scrape {
    pub samples: Vec<Sample>,
    /// `# TYPE name kind` lines: name -> `counter`, `gauge`, `histogram`...
    types: HashMap<String, String>,
}

impl Scrape {
    /// Parses the exposition text; `Err` names the first line it cannot read.
    pub(crate) fn parse(text: &str) -> Result<Scrape, String> {
        let mut scrape = Scrape {
            samples: Vec::new(),
            types: HashMap::new(),
        };
        for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
            if let Some(declaration) = line.strip_prefix("# TYPE ") {
                let (name, kind) = declaration.split_once(' ').ok_or(line)?;
                scrape.types.insert(name.to_owned(), kind.trim().to_owned());
            } else if !line.starts_with('#') {
                scrape.samples.push(sample(line).ok_or(line)?);
            }
        }
        Ok(scrape)
    }

    /// The declared type of `metric`'s family (a counter's samples may carry
    /// a `_total` suffix its `# TYPE` line has not).
    pub(crate) fn kind(&self, metric: &str) -> Option<&str> {
        self.types
            .get(metric)
            .or_else(|| self.types.get(metric.strip_suffix("_total")?))
            .map(String::as_str)
    }
}

/// Parses one sample line.
fn sample(line: &str) -> Option<Sample> {
    let (metric, labels, rest) = match line.split_once('{') {
        Some((metric, rest)) => {
            let (labels, rest) = labels(rest)?;
            (metric, labels, rest)
        }
        None => {
            let (metric, rest) = line.split_once(' ')?;
            (metric, HashMap::new(), rest)
        }
    };
    // A value, then maybe a timestamp.
    let value = rest.split_whitespace().next()?.parse().ok()?;
    Some(Sample {
        metric: metric.to_owned(),
        labels,
        value,
    })
}

/// Reads `name="value",...}` (values quoted, may hold `\"`); the labels and
/// what follows the `}`.
fn labels(mut rest: &str) -> Option<(HashMap<String, String>, &str)> {
    let mut labels = HashMap::new();
    loop {
        rest = rest.trim_start_matches(',');
        if let Some(after) = rest.strip_prefix('}') {
            return Some((labels, after));
        }
        let (name, after) = rest.split_once("=\"")?;
        let mut value = String::new();
        let mut chars = after.char_indices();
        let end = loop {
            match chars.next()? {
                (i, '"') => break i,
                (_, '\\') => value.push(chars.next()?.1),
                (_, c) => value.push(c),
            }
        };
        labels.insert(name.trim().to_owned(), value);
        rest = &after[end + 1..];
    }
}

#[test]
fn parses_samples_labels_and_types() {
    let scrape = Scrape::parse(
        "# HELP weft_activations Activations.\n\
         # TYPE weft_activations counter\n\
         weft_activations_total{module=\"order\",note=\"a \\\"b\\\", c\"} 3\n\
         # TYPE weft_cached_runs gauge\n\
         weft_cached_runs 0\n\
         up{job=\"x\"} +Inf 1700000000\n",
    )
    .expect("parses");
    assert_eq!(scrape.samples.len(), 3);
    let first = &scrape.samples[0];
    assert_eq!(first.metric, "weft_activations_total");
    assert_eq!(first.labels["module"], "order");
    assert_eq!(first.labels["note"], "a \"b\", c");
    assert_eq!(first.value, 3.0);
    assert_eq!(scrape.kind("weft_activations_total"), Some("counter"));
    assert_eq!(scrape.kind("weft_cached_runs"), Some("gauge"));
    assert!(scrape.samples[2].value.is_infinite());
    assert!(Scrape::parse("broken{a=\"1\" 2").is_err());
}
