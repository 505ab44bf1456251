//! Countries as lists and clients write them: ISO 3166 alpha-2 codes and English names,
//! including the forms OFAC and the UN use (`Korea, North`, `Iran (Islamic Republic of)`).

/// `CODE:name/variant/...` per country.
const TABLE: &str = "AF:afghanistan|AL:albania|DZ:algeria|AD:andorra|AO:angola|AG:antigua and barbuda|AR:argentina|\
AM:armenia|AU:australia|AT:austria|AZ:azerbaijan|BS:bahamas/the bahamas|BH:bahrain|BD:bangladesh|BB:barbados|\
BY:belarus|BE:belgium|BZ:belize|BJ:benin|BT:bhutan|BO:bolivia/bolivia plurinational state of|\
BA:bosnia and herzegovina|BW:botswana|BR:brazil|BN:brunei/brunei darussalam|BG:bulgaria|BF:burkina faso|\
BI:burundi|CV:cabo verde/cape verde|KH:cambodia|CM:cameroon|CA:canada|CF:central african republic|TD:chad|\
CL:chile|CN:china|CO:colombia|KM:comoros|CG:congo/republic of the congo|\
CD:democratic republic of the congo/congo democratic republic of the/drc|CR:costa rica|\
CI:cote divoire/ivory coast|HR:croatia|CU:cuba|CY:cyprus|CZ:czech republic/czechia|DK:denmark|DJ:djibouti|\
DM:dominica|DO:dominican republic|EC:ecuador|EG:egypt|SV:el salvador|GQ:equatorial guinea|ER:eritrea|\
EE:estonia|SZ:eswatini/swaziland|ET:ethiopia|FJ:fiji|FI:finland|FR:france|GA:gabon|GM:gambia/the gambia|\
GE:georgia|DE:germany|GH:ghana|GR:greece|GD:grenada|GT:guatemala|GN:guinea|GW:guinea bissau|GY:guyana|\
HT:haiti|HN:honduras|HK:hong kong|HU:hungary|IS:iceland|IN:india|ID:indonesia|\
IR:iran/iran islamic republic of/islamic republic of iran|IQ:iraq|IE:ireland|IL:israel|IT:italy|JM:jamaica|\
JP:japan|JO:jordan|KZ:kazakhstan|KE:kenya|KI:kiribati|\
KP:north korea/korea north/democratic peoples republic of korea/korea democratic peoples republic of|\
KR:south korea/korea south/republic of korea/korea republic of|XK:kosovo|KW:kuwait|KG:kyrgyzstan|\
LA:laos/lao peoples democratic republic|LV:latvia|LB:lebanon|LS:lesotho|LR:liberia|LY:libya|\
LI:liechtenstein|LT:lithuania|LU:luxembourg|MO:macau/macao|MG:madagascar|MW:malawi|MY:malaysia|MV:maldives|\
ML:mali|MT:malta|MH:marshall islands|MR:mauritania|MU:mauritius|MX:mexico|\
FM:micronesia/micronesia federated states of|MD:moldova/republic of moldova|MC:monaco|MN:mongolia|\
ME:montenegro|MA:morocco|MZ:mozambique|MM:burma/myanmar|NA:namibia|NR:nauru|NP:nepal|NL:netherlands|\
NZ:new zealand|NI:nicaragua|NE:niger|NG:nigeria|MK:north macedonia/macedonia|NO:norway|OM:oman|PK:pakistan|\
PW:palau|PS:palestine/palestinian territories/west bank/gaza|PA:panama|PG:papua new guinea|PY:paraguay|PE:peru|\
PH:philippines|PL:poland|PT:portugal|QA:qatar|RO:romania|RU:russia/russian federation|RW:rwanda|\
KN:saint kitts and nevis|LC:saint lucia|VC:saint vincent and the grenadines|WS:samoa|SM:san marino|\
ST:sao tome and principe|SA:saudi arabia|SN:senegal|RS:serbia|SC:seychelles|SL:sierra leone|SG:singapore|\
SK:slovakia|SI:slovenia|SB:solomon islands|SO:somalia|ZA:south africa|SS:south sudan|ES:spain|LK:sri lanka|\
SD:sudan|SR:suriname|SE:sweden|CH:switzerland|SY:syria/syrian arab republic|TW:taiwan|TJ:tajikistan|\
TZ:tanzania/united republic of tanzania|TH:thailand|TL:timor leste/east timor|TG:togo|TO:tonga|\
TT:trinidad and tobago|TN:tunisia|TR:turkey/turkiye|TM:turkmenistan|TV:tuvalu|UG:uganda|UA:ukraine|\
AE:united arab emirates/uae|GB:united kingdom/uk/great britain/united kingdom of great britain and northern ireland|\
US:united states/usa/united states of america|UY:uruguay|UZ:uzbekistan|VU:vanuatu|VA:holy see/vatican|\
VE:venezuela/venezuela bolivarian republic of/bolivarian republic of venezuela|VN:vietnam/viet nam|YE:yemen|\
ZM:zambia|ZW:zimbabwe|CK:cook islands|GI:gibraltar|IM:isle of man|JE:jersey|GG:guernsey|KY:cayman islands|\
VG:british virgin islands/virgin islands british|BM:bermuda|AW:aruba|CW:curacao|PR:puerto rico";

/// Lower-case words of a country name: letters only, `(`, `)`, `,` and `'` dropped.
fn words(text: &str) -> String {
    let cleaned: String = text
        .chars()
        .filter_map(|c| match c {
            '\'' | '\u{2019}' => None,
            c if c.is_alphanumeric() => Some(c.to_ascii_lowercase()),
            _ => Some(' '),
        })
        .collect();
    let cleaned = cleaned.replace('ô', "o").replace('é', "e").replace('ç', "c");
    cleaned.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The ISO 3166 alpha-2 code of a country written as a code or a name; `None` when unknown.
pub fn code(text: &str) -> Option<&'static str> {
    let t = text.trim();
    if t.len() == 2 && t.chars().all(|c| c.is_ascii_alphabetic()) {
        let upper = t.to_ascii_uppercase();
        return TABLE.split('|').map(|e| &e[..2]).find(|c| *c == upper);
    }
    let w = words(t);
    TABLE.split('|').find_map(|entry| {
        let (code, names) = entry.split_once(':')?;
        names.split('/').any(|n| n == w).then_some(code)
    })
}

/// A key to compare countries by: the code when known, else the name's words.
pub fn key(text: &str) -> String {
    code(text).map_or_else(|| words(text), str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_names() {
        for (text, expected) in [
            ("IR", Some("IR")),
            ("ir", Some("IR")),
            ("Iran", Some("IR")),
            ("Iran (Islamic Republic of)", Some("IR")),
            ("Korea, North", Some("KP")),
            ("Democratic People's Republic of Korea", Some("KP")),
            ("Russian Federation", Some("RU")),
            ("Côte d'Ivoire", Some("CI")),
            ("Atlantis", None),
            ("QQ", None),
        ] {
            assert_eq!(code(text), expected, "{text}");
        }
        assert!(TABLE.split('|').all(|e| e.len() > 3 && &e[2..3] == ":"));
    }
}
