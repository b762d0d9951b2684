//! Decides what kind of abuse a free-form mail describes, from cue words in the languages abuse
//! mail arrives in, and says how sure it is and why.
//!
//! Why cue lists and not a model: the decision must be explainable to an analyst and to the
//! customer ("classified as login attack because the mail says `Brute-Force` and `Failed
//! password`"), deterministic, and cheap. The cues found are kept in the event's `extra`.

use warden_model::AbuseClass;

/// The outcome: a class, a confidence 0.0..=1.0 and the cues that decided it.
#[derive(Debug, Clone, PartialEq)]
pub struct Classification {
    /// The winning class, [`AbuseClass::Other`] when no cue matched.
    pub class: AbuseClass,
    /// How sure: grows with the number of distinct cues, shrinks when another class is close.
    pub confidence: f32,
    /// The cues that matched for the winning class, as written in the table below.
    pub cues: Vec<&'static str>,
}

/// Cue words per class, lower case, matched as substrings of the lower-cased text. Each cue
/// counts once however often it appears, so a long log does not outvote the prose.
#[rustfmt::skip]
const CUES: &[(AbuseClass, &[&str])] = &[
    (
        AbuseClass::LoginAttack,
        &[
            "brute force", "brute-force", "bruteforce", "login attempt", "failed password",
            "authentication failure", "invalid user", "failed login", "login attack",
            "dictionary attack", "password guessing", "fail2ban", "denyhosts", "has been banned",
            "excessive failed login", "sasl login authentication failed", "wp-login.php",
            "xmlrpc.php", "anmeldeversuch", "login-versuch", "loginversuch",
            "fehlgeschlagene anmeld", "passwort-angriff", "tentatives de connexion",
            "tentative de connexion", "force brute", "intentos de acceso",
            "intentos de inicio de sesión", "fuerza bruta", "inlogpogingen", "inlogpoging",
            "tentativas de login", "tentativas de acesso", "força bruta", "подбор пароля",
            "перебор пароля", "брутфорс", "попытки входа", "попыток входа",
        ],
    ),
    (
        AbuseClass::PortScan,
        &[
            "port scan", "portscan", "port-scan", "scanning", "scanned", "nmap", "masscan",
            "scan de ports", "balayage de ports", "escaneo de puertos", "escaneo de red",
            "poortscan", "varredura de portas", "сканирование портов", "сканирование",
            "portscanner", "gescannt",
        ],
    ),
    (
        AbuseClass::Ddos,
        &[
            "ddos", "denial of service", "denial-of-service", "dos attack", "syn flood",
            "udp flood", "flooding", "amplification", "überlastungsangriff", "déni de service",
            "denegación de servicio", "negação de serviço", "ддос", "dos-атака", "ddos-атака",
        ],
    ),
    (
        AbuseClass::Spam,
        &[
            "spam", "unsolicited", "unerwünschte e-mail", "unerwünschte werbung", "unverlangt",
            "courrier indésirable", "pourriel", "courriel non sollicité", "correo no deseado",
            "correo basura", "ongevraagde", "ongewenste e-mail", "e-mail não solicitado",
            "спам", "рассылка",
        ],
    ),
    (
        AbuseClass::Phishing,
        &[
            "phishing", "credential harvesting", "fake login", "hameçonnage", "fishing",
            "suplantación de identidad", "фишинг", "phishing-seite", "phishingseite",
        ],
    ),
    (
        AbuseClass::Malware,
        &[
            "malware", "trojan", "ransomware", "virus", "malicious file", "malicious download",
            "schadsoftware", "schadcode", "logiciel malveillant", "software malicioso",
            "vírus", "вредонос", "троян",
        ],
    ),
    (
        AbuseClass::Copyright,
        &[
            "dmca", "copyright", "infringement", "infringing", "17 u.s.c", "urheberrecht",
            "droit d'auteur", "derechos de autor", "auteursrecht", "direitos autorais",
            "авторских прав", "bittorrent", "torrent",
        ],
    ),
    (
        AbuseClass::Fraud,
        &[
            "fraud", "scam", "advance fee", "betrug", "escroquerie", "arnaque", "estafa",
            "fraude", "oplichting", "мошенн",
        ],
    ),
    (
        AbuseClass::InfectedHost,
        &["infected", "botnet", "sinkhole", "infiziert", "infecté", "infectado", "заражен"],
    ),
    (
        AbuseClass::CompromisedServer,
        &[
            "compromised", "hacked", "defaced", "webshell", "web shell", "kompromittiert",
            "gehackt", "piraté", "comprometido", "взломан",
        ],
    ),
    (AbuseClass::BotnetC2, &["command and control", "c&c server", "c2 server", "c2-server"]),
    (
        AbuseClass::VulnerableService,
        &["open resolver", "open relay", "vulnerable", "offener resolver", "amplifier"],
    ),
    (AbuseClass::Csam, &["child sexual abuse", "csam", "child abuse material"]),
];

/// Classifies a mail from its subject line and its body text (already lower-cased by the
/// caller is not required; this lower-cases both). Cues in the subject count double: people put
/// the gist there.
pub fn classify(subject: &str, body: &str) -> Classification {
    let subject = subject.to_lowercase();
    let body = body.to_lowercase();
    let mut scores: Vec<(AbuseClass, u32, Vec<&'static str>)> = Vec::new();
    for (class, cues) in CUES {
        let mut score = 0;
        let mut hits = Vec::new();
        for cue in cues.iter().copied() {
            let in_subject = subject.contains(cue);
            let in_body = body.contains(cue);
            if in_subject || in_body {
                score += if in_subject { 2 } else { 1 };
                hits.push(cue);
            }
        }
        if score > 0 {
            scores.push((*class, score, hits));
        }
    }
    // Highest score first; ties go to the order of CUES (the more specific classes come first).
    scores.sort_by_key(|s| std::cmp::Reverse(s.1));
    let mut ranked = scores.into_iter();
    let Some((class, best, cues)) = ranked.next() else {
        return Classification {
            class: AbuseClass::Other,
            confidence: 0.3,
            cues: Vec::new(),
        };
    };
    let runner_up = ranked.next().map_or(0, |(_, s, _)| s);
    let mut confidence = 0.45 + 0.12 * best.min(4) as f32;
    if runner_up * 2 > best {
        // Another class is nearly as likely: say so through a lower confidence.
        confidence -= 0.2;
    }
    Classification {
        class,
        confidence: confidence.clamp(0.1, 0.95),
        cues,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn german_brute_force() {
        let c = classify(
            "Brute-Force-Angriff von Ihrer IP",
            "Wir sahen Anmeldeversuche.",
        );
        assert_eq!(c.class, AbuseClass::LoginAttack);
        assert!(c.confidence > 0.7, "{c:?}");
        assert!(c.cues.contains(&"brute-force"));
    }

    #[test]
    fn languages() {
        assert_eq!(
            classify("", "tentatives de connexion SSH").class,
            AbuseClass::LoginAttack
        );
        assert_eq!(
            classify("", "intentos de acceso al servidor").class,
            AbuseClass::LoginAttack
        );
        assert_eq!(
            classify("", "escaneo de puertos").class,
            AbuseClass::PortScan
        );
        assert_eq!(classify("Спам", "").class, AbuseClass::Spam);
        assert_eq!(
            classify("DMCA notice", "copyright infringement").class,
            AbuseClass::Copyright
        );
        assert_eq!(classify("", "a phishing page").class, AbuseClass::Phishing);
    }

    #[test]
    fn nothing_is_other_with_low_confidence() {
        let c = classify("Hello", "Please look at this.");
        assert_eq!(c.class, AbuseClass::Other);
        assert!(c.confidence < 0.5);
    }

    #[test]
    fn close_call_lowers_confidence() {
        let clear = classify("", "port scan, nmap, masscan");
        let mixed = classify("", "port scan and spam and unsolicited");
        assert!(mixed.confidence < clear.confidence);
    }
}
