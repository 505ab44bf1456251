//! `string_enum!`: a closed set of names with one stable text each, used wherever an enum is
//! stored, sent or parsed. Its text is written once, next to its variant; `Debug` output is
//! never stored.

/// Declares a `Copy` enum whose variants each have one stable text: `as_str`, `parse`, `ALL`
/// and `Display` (the text). Example:
///
/// ```
/// rialto_core::string_enum! {
///     /// A colour.
///     pub enum Colour { Red = "red", DarkBlue = "dark_blue" }
/// }
/// assert_eq!(Colour::DarkBlue.as_str(), "dark_blue");
/// assert_eq!(Colour::parse("red"), Some(Colour::Red));
/// assert_eq!(Colour::ALL.len(), 2);
/// assert_eq!(Colour::names(), "red or dark_blue");
/// ```
#[macro_export]
macro_rules! string_enum {
    ($(#[$meta:meta])* $vis:vis enum $name:ident { $( $(#[$vmeta:meta])* $variant:ident = $text:literal ),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        $vis enum $name {
            $( $(#[$vmeta])* $variant ),+
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stable text (stored, sent and parsed).
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            /// The variant whose text is `text`.
            pub fn parse(text: &str) -> Option<$name> {
                match text {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }

            /// The texts for an error message: `a, b or c`.
            pub fn names() -> String {
                $crate::enums::or_list(&[$($text),+])
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

/// `a`, `a or b`, `a, b or c`.
pub fn or_list(names: &[&str]) -> String {
    match names {
        [] => String::new(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    crate::string_enum! {
        /// A test enum.
        enum Shade { Light = "light", VeryDark = "very_dark" }
    }

    #[test]
    fn every_text_parses_back_and_texts_are_unique() {
        for s in Shade::ALL {
            assert_eq!(Shade::parse(s.as_str()), Some(*s));
            assert_eq!(s.to_string(), s.as_str());
        }
        assert_eq!(Shade::parse("VeryDark"), None, "Debug text is not a name");
        assert_eq!(Shade::names(), "light or very_dark");
        assert_eq!(super::or_list(&["a", "b", "c"]), "a, b or c");
    }
}
