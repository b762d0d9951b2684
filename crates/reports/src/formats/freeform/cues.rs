//! The words that give an address its role, in the languages abuse mail arrives in.
//!
//! Kept apart from the scanner so that adding a language is an edit to word lists only.

/// Words before an address that say it is the source. Longest match wins, so `destination ip`
/// beats `ip`. Lower case; `=` and `:` are trimmed before matching.
#[rustfmt::skip]
pub const SOURCE_CUES: &[&str] = &[
    "src", "source", "source ip", "source address", "source ip address", "src ip", "srcip",
    "from", "from ip", "from host", "rhost", "client", "client ip", "attacker", "attacker ip",
    "attacking ip", "attacking host", "offending ip", "offender", "ban", "banned", "blocked",
    "ip", "ip address", "ip-address", "host", "remote", "remote host", "remote ip", "sender ip",
    "sending ip", "abusive ip", "attack from", "attacks from", "originating ip",
    // German
    "quelle", "quell-ip", "quelladresse", "quell-adresse", "absender", "angreifer", "von",
    "ip-adresse", "angreifende ip",
    // French
    "de", "depuis", "adresse ip", "adresse source", "ip source", "attaquant", "provenant de",
    // Spanish and Portuguese
    "desde", "origen", "ip de origen", "origem", "ip de origem", "dirección ip", "endereço ip",
    "atacante", "procedentes de", "provenientes de", "do ip", "del ip", "de la ip",
    // Dutch
    "van", "vanaf", "bron", "bron-ip", "aanvaller",
    // Russian
    "от", "с", "с адреса", "с ip", "источник", "ip-адрес", "ip адрес", "адрес", "атакующий",
];

/// Words before an address that say it is the destination (the reporter's own machine).
#[rustfmt::skip]
pub const DESTINATION_CUES: &[&str] = &[
    "dst", "dest", "destination", "destination ip", "destination address", "dst ip", "to",
    "to ip", "to host", "target", "target ip", "target host", "victim", "victim ip", "our server",
    "our host", "our ip", "our network", "our mail server", "our honeypot", "server ip",
    "honeypot", "sensor", "on", "on host", "against", "->", ">",
    // German
    "auf", "an", "ziel", "ziel-ip", "zieladresse", "ziel-adresse", "nach", "unser server",
    "unseren server", "unserem server",
    // French
    "vers", "cible", "notre serveur", "ip de destination",
    // Spanish and Portuguese
    "hacia", "destino", "ip de destino", "nuestro servidor", "para", "nosso servidor",
    // Dutch
    "naar", "doel", "onze server",
    // Russian
    "на", "назначение", "наш сервер",
];

/// Words before a version number: `OpenSSH 8.9.1.2`, `version 1.2.3.4` are not addresses.
pub const VERSION_WORDS: &[&str] = &[
    "version",
    "ver",
    "v",
    "release",
    "build",
    "firmware",
    "kernel",
    "rev",
    "revision",
    "версия",
];
