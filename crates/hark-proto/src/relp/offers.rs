//! The offers of an `open` command: `name[=value{,value}]` lines.

/// The longest offer name librelp keeps.
const MAX_NAME: usize = 32;
/// The longest offer value (`VALUE = *255OCTET`).
const MAX_VALUE: usize = 255;
/// More offers than any RELP peer sends; a bound against crafted opens.
const MAX_OFFERS: usize = 32;
/// More values in one offer than any RELP peer sends.
const MAX_VALUES: usize = 32;

/// One offer: a feature name and its values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Offer {
    pub name: String,
    pub values: Vec<String>,
}

/// Why an `open` carried unusable offers; the text goes into the 500 reply.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum OfferError {
    /// An offer name over 32 bytes or a value over 255 bytes.
    #[error("offer {name:?} too long")]
    TooLong {
        /// The offer's name (cut to 32 bytes).
        name: String,
    },
    /// More offers or values than a RELP peer sends.
    #[error("too many offers or offer values")]
    TooMany,
    /// `relp_version` without a numeric value.
    #[error("invalid relp_version offer")]
    BadVersion,
}

/// Splits the DATA of an `open` into offers. Values that are empty are
/// skipped, as librelp does; bytes that are not UTF-8 are replaced.
pub(crate) fn parse(data: &[u8]) -> Result<Vec<Offer>, OfferError> {
    let mut offers = Vec::new();
    for line in data.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        if offers.len() == MAX_OFFERS {
            return Err(OfferError::TooMany);
        }
        let (name, values) = match line.iter().position(|&b| b == b'=') {
            Some(eq) => (&line[..eq], Some(&line[eq + 1..])),
            None => (line, None),
        };
        let name = String::from_utf8_lossy(name).into_owned();
        if name.len() > MAX_NAME {
            let mut cut = MAX_NAME;
            while !name.is_char_boundary(cut) {
                cut -= 1;
            }
            return Err(OfferError::TooLong {
                name: name[..cut].to_owned(),
            });
        }
        let mut offer = Offer {
            name,
            values: Vec::new(),
        };
        for value in values
            .into_iter()
            .flat_map(|v| v.split(|&b| b == b','))
            .filter(|v| !v.is_empty())
        {
            if value.len() > MAX_VALUE {
                return Err(OfferError::TooLong { name: offer.name });
            }
            if offer.values.len() == MAX_VALUES {
                return Err(OfferError::TooMany);
            }
            offer
                .values
                .push(String::from_utf8_lossy(value).into_owned());
        }
        offers.push(offer);
    }
    Ok(offers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn librelp_offers_split_into_names_and_values() {
        let offers = parse(
            b"relp_version=0\nrelp_software=librelp,1.11.0,http://librelp.adiscon.com\ncommands=syslog",
        )
        .unwrap();
        assert_eq!(offers.len(), 3);
        assert_eq!(offers[0].name, "relp_version");
        assert_eq!(offers[0].values, ["0"]);
        assert_eq!(
            offers[1].values,
            ["librelp", "1.11.0", "http://librelp.adiscon.com"]
        );
        assert_eq!(offers[2].values, ["syslog"]);
    }

    #[test]
    fn offers_without_values_and_empty_values_are_kept_empty() {
        let offers = parse(b"relp_version\ncommands=,syslog,\n").unwrap();
        assert!(offers[0].values.is_empty());
        assert_eq!(offers[1].values, ["syslog"]);
    }

    #[test]
    fn oversize_offers_are_refused() {
        let many = format!("commands={}", vec!["syslog"; 33].join(","));
        assert_eq!(parse(many.as_bytes()), Err(OfferError::TooMany));
        let long = format!("{}=1", "n".repeat(33));
        assert!(matches!(
            parse(long.as_bytes()),
            Err(OfferError::TooLong { .. })
        ));
        let value = format!("x={}", "v".repeat(256));
        assert!(matches!(
            parse(value.as_bytes()),
            Err(OfferError::TooLong { .. })
        ));
    }
}
