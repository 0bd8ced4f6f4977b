//! Reading denials (`ImportStore::denials`, `denial_counts`) on every backend: order, paging,
//! filters, and the counts per feature and per user.

use licmon_store::*;

use super::{batch, denial, settings, t};

/// Six denials of one server (and one of another server, which no read may show).
async fn denials_of_two_servers(store: &SqlStore) -> licmon_core::ServerId {
    let server = store
        .create_server(&settings("den", "1@h"), t(0))
        .await
        .unwrap();
    let mut b = batch(server.id, 0, None, 100);
    b.denials = vec![
        denial("CAD", "ana", 10, false),
        denial("CAD", "bo", 20, true),
        denial("CAD", "ana", 30, false),
        denial("CFD", "bo", 40, false),
        denial("CAD", "ché", 50, false),
        // Same instant as ché's: the id breaks the tie, in both orders.
        denial("CFD", "ana", 50, true),
    ];
    store.commit_import_batch(&b).await.unwrap();
    let other = store
        .create_server(&settings("den-other", "2@h"), t(0))
        .await
        .unwrap();
    let mut b = batch(other.id, 0, None, 100);
    b.denials = vec![denial("CAD", "ana", 15, false)];
    store.commit_import_batch(&b).await.unwrap();
    server.id
}

fn keys(list: &[DenialRecord]) -> Vec<(i64, &str, &str)> {
    list.iter()
        .map(|d| {
            (
                (d.at - t(0)).num_seconds(),
                d.feature.as_str(),
                d.user.as_str(),
            )
        })
        .collect()
}

pub async fn denials_newest_first_page_and_filter(store: &SqlStore) {
    let id = denials_of_two_servers(store).await;
    let newest = |q: DenialQuery| DenialQuery {
        newest_first: true,
        ..q
    };
    let all = store
        .denials(id, &newest(DenialQuery::default()))
        .await
        .unwrap();
    assert_eq!(
        keys(&all),
        vec![
            (50, "CFD", "ana"),
            (50, "CAD", "ché"),
            (40, "CFD", "bo"),
            (30, "CAD", "ana"),
            (20, "CAD", "bo"),
            (10, "CAD", "ana"),
        ]
    );
    // Oldest first stays the default: exactly the reverse.
    let oldest = store.denials(id, &DenialQuery::default()).await.unwrap();
    let reversed: Vec<_> = all.iter().rev().cloned().collect();
    assert_eq!(oldest, reversed);

    // Pages of two, newest first, add up to the whole list without gaps or repeats.
    let mut paged = Vec::new();
    for offset in [0, 2, 4, 6] {
        let page = store
            .denials(
                id,
                &newest(DenialQuery {
                    limit: 2,
                    offset,
                    ..Default::default()
                }),
            )
            .await
            .unwrap();
        assert_eq!(
            page.len(),
            if offset == 6 { 0 } else { 2 },
            "offset {offset}"
        );
        paged.extend(page);
    }
    assert_eq!(paged, all);

    let ana_cad = store
        .denials(
            id,
            &newest(DenialQuery {
                feature: Some("CAD".into()),
                user: Some("ana".into()),
                ..Default::default()
            }),
        )
        .await
        .unwrap();
    assert_eq!(keys(&ana_cad), vec![(30, "CAD", "ana"), (10, "CAD", "ana")]);
    let true_cfd = store
        .denials(
            id,
            &newest(DenialQuery {
                true_only: true,
                feature: Some("CFD".into()),
                ..Default::default()
            }),
        )
        .await
        .unwrap();
    assert_eq!(keys(&true_cfd), vec![(40, "CFD", "bo")]);
    // The range includes `from` and excludes `to`.
    let range = store
        .denials(
            id,
            &newest(DenialQuery {
                from: Some(t(20)),
                to: Some(t(50)),
                ..Default::default()
            }),
        )
        .await
        .unwrap();
    assert_eq!(
        keys(&range),
        vec![(40, "CFD", "bo"), (30, "CAD", "ana"), (20, "CAD", "bo")]
    );
    let nobody = store
        .denials(
            id,
            &DenialQuery {
                feature: Some("x' OR '1'='1".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(nobody.is_empty());
}

fn count(
    name: &str,
    denials: u64,
    true_denials: u64,
    users: u64,
    features: u64,
    last: i64,
) -> DenialCount {
    DenialCount {
        name: name.into(),
        denials,
        true_denials,
        users,
        features,
        last_at: t(last),
    }
}

pub async fn denial_counts_per_feature_and_user(store: &SqlStore) {
    let id = denials_of_two_servers(store).await;
    let filter = |from: Option<i64>, to: Option<i64>, feature: Option<&str>, user: Option<&str>| {
        DenialFilter {
            from: from.map(t),
            to: to.map(t),
            feature: feature.map(str::to_string),
            user: user.map(str::to_string),
        }
    };
    let all = filter(None, None, None, None);
    let cases = [
        (
            DenialGroup::Feature,
            all.clone(),
            100,
            vec![count("CAD", 4, 3, 2, 1, 50), count("CFD", 2, 1, 1, 1, 50)],
        ),
        (
            DenialGroup::User,
            all.clone(),
            100,
            vec![
                count("ana", 3, 2, 1, 1, 50),
                count("bo", 2, 1, 1, 1, 40),
                count("ché", 1, 1, 1, 1, 50),
            ],
        ),
        // Only a retry: no true denial, so nobody counted as truly denied.
        (
            DenialGroup::Feature,
            filter(None, None, Some("CAD"), Some("bo")),
            100,
            vec![count("CAD", 1, 0, 0, 0, 20)],
        ),
        (
            DenialGroup::User,
            filter(Some(25), Some(50), None, None),
            100,
            vec![count("ana", 1, 1, 1, 1, 30), count("bo", 1, 1, 1, 1, 40)],
        ),
        (
            DenialGroup::User,
            all,
            1,
            vec![count("ana", 3, 2, 1, 1, 50)],
        ),
        (
            DenialGroup::Feature,
            filter(None, None, None, Some("zed")),
            100,
            vec![],
        ),
    ];
    for (by, filter, limit, expected) in cases {
        let got = store.denial_counts(id, by, &filter, limit).await.unwrap();
        assert_eq!(got, expected, "{by:?} {filter:?} limit {limit}");
    }
}
