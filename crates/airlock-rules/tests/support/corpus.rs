//! The tokenizer's test corpus, generated deterministically (no data files to keep in sync):
//! prose in many scripts, code, JSON, CJK, emoji and ZWJ sequences, combining marks, numbers,
//! mixed whitespace, long runs, random code points and random bytes, plus hand-picked edge cases.
//!
//! Used by `tests/tokenizer_exact.rs` (against tiktoken-rs), by the `tokenize` example and through
//! it by `tests/tiktoken_compare.py` (against Python tiktoken).

#![allow(dead_code)]

/// A small deterministic generator (SplitMix64).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
}

/// Words and phrases per script; joined at random with varied separators.
const WORDS: &[&str] = &[
    // English, with contractions in every case
    "the quick brown fox jumps over the lazy dog it's we're they've I'm you'll he'd DON'T WE'LL She's O'Neil rock'n'roll y'all can't won't isn't",
    "Tokenization splits text into pieces; each piece is merged byte by byte until no pair is in the vocabulary.",
    // French, German, Spanish, Portuguese, Italian, Polish, Czech, Turkish, Vietnamese
    "l'été où j'ai vu qu'il était là, déjà ça coûte cher œuvre naïve façade crème brûlée",
    "Straße Größe Übermäßig Fußgängerübergänge schön Äpfel ÖL über Donaudampfschifffahrtsgesellschaftskapitän",
    "¿Qué tal? ¡Olé! El niño comió piñas año mañana corazón",
    "ação não coração informação São Paulo é perigoso",
    "perché città più già è così",
    "Zażółć gęślą jaźń źdźbło",
    "Příliš žluťoučký kůň úpěl ďábelské ódy",
    "İstanbul ılık ŞEHİR ığdır Çiçek göç",
    "Tiếng Việt có dấu: người, được, những, trường học, Nguyễn",
    // Greek, Cyrillic, Armenian, Georgian
    "Ελληνικά γλώσσα ΑΘΗΝΑ Σωκράτης ψυχή ς σ",
    "Съешь же ещё этих мягких французских булок, да выпей чаю. ЁЖИК Україна їжак ґанок",
    "Հայերեն լեզու Ქართული ენა მშვიდობა",
    // Arabic, Hebrew, Persian (RTL, with marks)
    "العربية لغة جميلة مَرْحَبًا بِكُمْ ٱلسَّلَامُ عَلَيْكُمْ ١٢٣٤٥",
    "עברית שָׁלוֹם עֲלֵיכֶם ירושלים",
    "فارسی زبان شیرین است ۱۲۳۴",
    // Indic with combining marks
    "हिन्दी भाषा नमस्ते दुनिया क्षत्रिय ज्ञान १२३",
    "বাংলা ভাষা আমার সোনার বাংলা",
    "தமிழ் மொழி வணக்கம் ஸ்ரீ",
    "తెలుగు భాష ಕನ್ನಡ ಭಾಷೆ മലയാളം ഭാഷ",
    "ਪੰਜਾਬੀ ગુજરાતી ଓଡ଼ିଆ සිංහල",
    // Southeast Asian
    "ภาษาไทยไม่มีการเว้นวรรคระหว่างคำ สวัสดีครับ",
    "ພາສາລາວ ភាសាខ្មែរ မြန်မာဘာသာ",
    // CJK
    "日本語の文章には漢字とひらがなとカタカナが混ざっています。東京都ｶﾀｶﾅ半角",
    "中文没有空格分隔词语，这是一个测试句子。繁體中文與簡體中文",
    "한국어는 띄어쓰기를 합니다 안녕하세요 세계",
    "𠀀𠀁𪚥 𡈽 Ⅻ ⅷ ㊿ ①②③",
    // Other scripts
    "ᐃᓄᒃᑎᑐᑦ ᏣᎳᎩ ትግርኛ አማርኛ ᠮᠣᠩᠭᠣᠯ ߒߞߏ ꦧꦱꦗꦮ ᚠᚢᚦ 𐌰𐌱 𓀀𓀁",
    // Emoji and ZWJ sequences, flags, skin tones, keycaps
    "😀 😃😄 👍🏽 👨‍👩‍👧‍👦 🏳️‍🌈 🇺🇸🇯🇵 1️⃣ ❤️ 🧑🏿‍🚀 👩‍💻 🤷‍♀️ ☕️",
    // Combining marks stacked, decomposed forms
    "e\u{301}e\u{300}a\u{308}o\u{302}\u{323} Z\u{335}\u{32a}\u{31f}a\u{34e}l\u{363}g\u{336}o\u{35c} n\u{303}",
    // Math, symbols, punctuation
    "∀x∈ℝ: x² ≥ 0 ∑ᵢ aᵢ → ∞ ≠ ≤ ≈ ½ ¾ ‰ € £ ¥ © ® ™ § ¶ † ‡ • … — – « » „ “ ” ‘ ’",
    // Special-token strings are ordinary text
    "<|endoftext|> <|endofprompt|> <|fim_prefix|><|fim_middle|><|fim_suffix|> <|im_start|>",
];

const CODE: &[&str] = &[
    "fn main() {\n    let v: Vec<u32> = (0..10).map(|x| x * 2).collect();\n    println!(\"{:?}\", v);\n}\n",
    "def f(x):\n\treturn {'a': [1, 2.5, -3e10], \"b\": None}  # comment\n\nclass A(object):\n    pass\n",
    "const x = await fetch(`https://api.openai.com/v1/chat/completions`, {method: 'POST'});\r\nif (x.status !== 200) { throw new Error(x.statusText); }\r\n",
    "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\\n\\u00e9\"}],\"max_tokens\":1024,\"temperature\":0.7}",
    "SELECT id, name FROM users WHERE created_at >= '2024-01-01' AND email LIKE '%@example.com';",
    "<div class=\"a\"><p>Hello &amp; welcome</p><br/></div>\n<!-- comment -->",
    "#include <stdio.h>\nint main(void){printf(\"%d\\n\",42);return 0;}\n",
    "$ curl -sS -H 'Authorization: Bearer $KEY' https://example.com/a/b/c?x=1&y=2 | jq '.data[] | .id'\n",
    "path/to/some/file.rs:12:34: error[E0308]: mismatched types //// \\\\ ///a",
    "    \t  indented\n\n\n\t\t\tdeeper   \n  \r\n   trailing   ",
];

const SPACES: &[&str] = &[
    " ",
    "  ",
    "   ",
    "\t",
    "\n",
    "\r\n",
    "\r",
    "\n\n",
    " \n ",
    "\u{feff}",
    "\u{85}",
    "\u{a0}",
    "\u{3000}",
    "\u{2028}",
    "\u{2029}",
    "\u{200b}",
    "\u{202f}",
    "\u{2009}",
    "\u{b}",
    "\u{c}",
    "\u{1c}",
    "\u{1f}",
    "\u{1680}",
    "\u{205f}",
    " \u{feff}",
    "\r\n\r\n",
    " \r\n",
    "\t\n",
    "\n ",
];

fn words_of(s: &str) -> Vec<&str> {
    s.split(' ').filter(|w| !w.is_empty()).collect()
}

fn prose(rng: &mut Rng, size: usize) -> String {
    let mut out = String::new();
    while out.len() < size {
        let line = words_of(rng.pick(WORDS));
        let n = 3 + rng.below(20);
        for _ in 0..n {
            out.push_str(rng.pick(&line));
            let r = rng.below(100);
            if r < 70 {
                out.push(' ');
            } else if r < 80 {
                out.push_str(rng.pick(&[", ", ". ", "! ", "? ", ": ", "; ", "'s ", "'", "'S "]));
            } else if r < 95 {
                out.push_str(rng.pick(SPACES));
            } else {
                out.push_str(&(rng.next() % 100_000).to_string());
                out.push(' ');
            }
        }
        out.push_str(rng.pick(&["\n", "\n\n", "\r\n", " \n", "\n"]));
    }
    out
}

fn code(rng: &mut Rng, size: usize) -> String {
    let mut out = String::new();
    while out.len() < size {
        out.push_str(rng.pick(CODE));
        if rng.below(3) == 0 {
            out.push_str(rng.pick(SPACES));
        }
    }
    out
}

fn numbers(rng: &mut Rng, size: usize) -> String {
    let mut out = String::new();
    while out.len() < size {
        match rng.below(6) {
            0 => out.push_str(&rng.next().to_string()),
            1 => out.push_str(&format!("{}.{}", rng.below(1000), rng.next() % 1000)),
            2 => out.push_str(&format!("-{}e{}", rng.below(100), rng.below(30))),
            3 => out.push_str(&format!("{:x}", rng.next())),
            4 => out.push_str("١٢٣٤٥٦٧٨٩٠ ０１２３ ²³ ½ Ⅻ 𝟙𝟚"),
            _ => {
                for _ in 0..rng.below(200) {
                    out.push(char::from(b'0' + rng.below(10) as u8));
                }
            }
        }
        out.push_str(rng.pick(&[" ", ",", "\n", "", "/", "$", " - "]));
    }
    out
}

fn random_code_points(rng: &mut Rng, size: usize) -> String {
    let mut out = String::new();
    while out.len() < size {
        let cp = match rng.below(10) {
            0..=3 => rng.below(0x80),
            4..=6 => rng.below(0x3000),
            7 => 0x3000 + rng.below(0xD000),
            8 => 0x10000 + rng.below(0x20000),
            _ => rng.below(0x110000),
        } as u32;
        if let Some(c) = char::from_u32(cp) {
            out.push(c);
        }
    }
    out
}

/// Random bytes: the tokenizer sees them decoded with replacement.
pub fn random_bytes(rng: &mut Rng, size: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(size);
    while out.len() < size {
        match rng.below(4) {
            0 => out.push(rng.next() as u8),
            1 => out.push(0x80 | (rng.next() as u8 & 0x7F)),
            2 => out.extend_from_slice(&[0xE4, 0xB8, 0xAD][..1 + rng.below(3)]),
            _ => out.push(b'a' + rng.below(26) as u8),
        }
    }
    out
}

/// Characters of every class the patterns tell apart, run together without separators, so that
/// each branch of the pre-tokenizers (and its backtracking) shows in the token IDs.
fn class_mix(rng: &mut Rng, size: usize) -> String {
    let pools: [&[&str]; 12] = [
        &["A", "B", "Z", "É", "Ω", "Ж", "I", "S", "T"],
        &["a", "b", "z", "é", "ω", "ж", "s", "t", "the", "ing"],
        &["ǅ", "ǈ", "ᾈ"],
        &["ʰ", "ー", "々", "ˈ"],
        &["の", "中", "ا", "א", "ก", "한"],
        &["\u{301}", "\u{93f}", "\u{20dd}", "\u{64e}"],
        &["0", "1", "9", "٣", "²", "Ⅻ", "12", "2024"],
        &[
            "!", ".", ",", "-", "\"", "/", "(", ")", "😀", "$", "_", "\u{feff}", "\u{200b}",
        ],
        &[
            " ", " ", "  ", "\t", "\n", "\r", "\r\n", "\u{a0}", "\u{3000}", "\u{85}", "\u{2028}",
        ],
        &[
            "'", "'s", "'S", "'ll", "'LL", "'Re", "'ve", "'d", "'M", "'t", "'ſ", "'x",
        ],
        &["/", "//", "\n/", "\r\n", "\n\n"],
        &[
            "Hello",
            "WORLD",
            "McDonald",
            "iPhone",
            "HTTPServer",
            "don't",
            "naïve",
        ],
    ];
    let mut out = String::new();
    while out.len() < size {
        let pool = pools[rng.below(pools.len())];
        out.push_str(rng.pick(pool));
    }
    out
}

fn runs(rng: &mut Rng, size: usize) -> String {
    let units = [
        "a", "A", "é", "e\u{301}", " ", "\n", "\r\n", "\t", "0", "7", "!", ".", "-", "=", "/",
        "中", "😀", "\u{feff}", "\u{85}", "\u{a0}", "\u{3000}", "ab", "aB", " a", "'s", "\u{301}",
        "ſ", "'", "ـ", "ๆ",
    ];
    let mut out = String::new();
    while out.len() < size {
        let u = rng.pick(&units);
        let n = 1 + rng.below(3000);
        for _ in 0..n {
            out.push_str(u);
        }
        if rng.below(2) == 0 {
            out.push_str(rng.pick(&units));
        }
    }
    out
}

/// Hand-picked edge cases (each a separate text).
pub fn edge_cases() -> Vec<String> {
    let mut v: Vec<String> = [
        "",
        " ",
        "  ",
        "\n",
        "\r\n",
        "\r",
        "a",
        "'",
        "'s",
        "'S",
        "'ſ",
        "'ll",
        "'LL",
        "'Ll",
        "'l",
        "'re",
        "'RE",
        "'ve",
        "'d",
        "'m",
        "'t",
        "'x",
        "''s",
        "a's",
        "A'S",
        "don'ſ",
        "DON'T",
        "Ö'll",
        "ǅ'd",
        "ʰ'm",
        "x\u{301}'s",
        "\u{301}'s",
        "\u{301}",
        "\u{301}\u{301}A",
        "\u{301}HELLO",
        "HELLO",
        "HELLOworld",
        "HeLLo",
        "ǅungla",
        "ǅ",
        "Ǆǅǆ",
        "ʰʰʰ",
        "aʰB",
        "ABCʰDEF",
        "ABʰ",
        "ABC\u{301}DEF",
        "\u{feff}",
        "\u{feff}hello",
        "a\u{feff}b",
        "\u{85}",
        "a\u{85}b",
        "\u{85}\u{85}x",
        "\u{a0}x",
        "\u{3000}x",
        "  x",
        "   x",
        "\t\tx",
        " \n x",
        "\n\n\nx",
        " \r\n",
        "a\r\nb",
        "a\r\n\r\n",
        "x \r\n ",
        "x  ",
        "x\n  ",
        " !",
        "  !",
        " !!\n\n",
        "!!//\n",
        "a//b",
        "http://x.y/z//",
        "<|endoftext|>",
        "<|endofprompt|>",
        "hello<|endoftext|>world",
        "1",
        "12",
        "123",
        "1234",
        "1234567",
        "１２３４",
        "١٢٣٤",
        "²³¹",
        "Ⅻ",
        " 123",
        "a123",
        "😀",
        "👨‍👩‍👧‍👦",
        "🏳️‍🌈",
        "中文",
        " 中文",
        "日本語テキスト",
        "한국어",
        "e\u{301}",
        "\u{1100}\u{1161}",
        "İstanbul",
        "ς",
        "ﬁ",
        "ß",
        "ẞ",
        "\u{0}",
        "\u{7f}",
        "\u{1b}[0m",
        "\u{1c}\u{1d}\u{1e}\u{1f}",
        "\u{b}\u{c}",
        "\u{2028}\u{2029}",
        "\u{200b}\u{200c}\u{200d}",
        "\u{10ffff}",
        "\u{fffd}",
        "\u{e000}",
        "a\u{180e}b",
        "x\u{1680}y",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    v.push("a".repeat(5000));
    v.push(" ".repeat(5000));
    v.push(" ".repeat(5000) + "a");
    v.push("\n".repeat(3000));
    v.push("1".repeat(3001));
    v.push("!".repeat(4000));
    v.push("ab".repeat(3000));
    v.push("中".repeat(3000));
    v.push("😀".repeat(1000));
    v.push("\u{301}".repeat(2000));
    v.push("Supercalifragilisticexpialidocious".repeat(100));
    v.push("x".repeat(2000) + &"'s".repeat(3));
    v.push(" \r\n".repeat(1000));
    v.push("\u{feff}".repeat(1000));
    v
}

/// The named texts of the corpus: more than 2 MB in all.
pub fn corpus() -> Vec<(String, Vec<u8>)> {
    let mut rng = Rng::new(0x5EED_0FA1_120C);
    let mut out: Vec<(String, Vec<u8>)> = Vec::new();
    for i in 0..8 {
        out.push((format!("prose-{i}"), prose(&mut rng, 100_000).into_bytes()));
    }
    for i in 0..4 {
        out.push((format!("code-{i}"), code(&mut rng, 60_000).into_bytes()));
    }
    for i in 0..2 {
        out.push((
            format!("numbers-{i}"),
            numbers(&mut rng, 50_000).into_bytes(),
        ));
    }
    for i in 0..6 {
        let s = random_code_points(&mut rng, 60_000);
        out.push((format!("codepoints-{i}"), s.into_bytes()));
    }
    for i in 0..4 {
        out.push((format!("bytes-{i}"), random_bytes(&mut rng, 50_000)));
    }
    for i in 0..6 {
        out.push((format!("runs-{i}"), runs(&mut rng, 60_000).into_bytes()));
    }
    for i in 0..4 {
        out.push((
            format!("classmix-{i}"),
            class_mix(&mut rng, 50_000).into_bytes(),
        ));
    }
    for i in 0..4 {
        let mut s = prose(&mut rng, 30_000);
        s.push_str(&code(&mut rng, 20_000));
        s.push_str(&random_code_points(&mut rng, 5_000));
        s.push_str(&runs(&mut rng, 10_000));
        let mut b = s.into_bytes();
        b.extend(random_bytes(&mut rng, 3_000));
        out.push((format!("mixed-{i}"), b));
    }
    for (i, e) in edge_cases().into_iter().enumerate() {
        out.push((format!("edge-{i:03}"), e.into_bytes()));
    }
    out
}
