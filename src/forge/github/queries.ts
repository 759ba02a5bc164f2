/**
 * The GraphQL documents the GitHub adapter sends, and the shapes of their replies. Every
 * document here is checked against GitHub's public schema (`@octokit/graphql-schema`) by the
 * fake GitHub the tests run against, so a field GitHub does not have fails the tests.
 */
import type {
  CheckConclusionState,
  CheckStatusState,
  MergeableState,
  MergeStateStatus,
  PullRequestState,
  StatusState,
} from "@octokit/graphql-schema";

/** Open PRs listed per identification page (GitHub's connection maximum). */
export const LIST_PAGE_SIZE = 100;
/** PRs per status request; each carries up to 100 check contexts, 100 labels and a compare. */
export const STATUS_CHUNK_SIZE = 50;
/** Check contexts per page (GitHub's connection maximum). */
export const CONTEXTS_PAGE_SIZE = 100;
/** Review threads per page; each carries its first 100 comments. */
export const THREADS_PAGE_SIZE = 50;

export interface PageInfo {
  hasNextPage: boolean;
  endCursor: string | null;
}

export const REPO_QUERY = /* GraphQL */ `
  query NightshiftRepository($owner: String!, $name: String!) {
    repository(owner: $owner, name: $name) {
      nameWithOwner
      defaultBranchRef {
        name
        target {
          oid
        }
      }
    }
  }
`;

export interface RepoReply {
  repository: {
    nameWithOwner: string;
    defaultBranchRef: { name: string; target: { oid: string } | null } | null;
  } | null;
}

/** What the identification step learns about an open PR: enough to ask for its status and compare. */
export interface PullRequestIdent {
  number: number;
  state: PullRequestState;
  headRefName: string;
  isCrossRepository: boolean;
}

export const OPEN_PULL_REQUESTS_QUERY = /* GraphQL */ `
  query NightshiftOpenPullRequests($owner: String!, $name: String!, $after: String) {
    repository(owner: $owner, name: $name) {
      pullRequests(
        states: [OPEN]
        first: ${LIST_PAGE_SIZE}
        after: $after
        orderBy: { field: CREATED_AT, direction: ASC }
      ) {
        pageInfo {
          hasNextPage
          endCursor
        }
        nodes {
          number
          state
          headRefName
          isCrossRepository
        }
      }
    }
  }
`;

export interface OpenPullRequestsReply {
  repository: {
    pullRequests: { pageInfo: PageInfo; nodes: (PullRequestIdent | null)[] | null };
  } | null;
}

/** Identifies the given PR numbers (aliases `p0`, `p1`, …) with one request. */
export function identifyPullRequestsQuery(count: number): string {
  const vars = Array.from({ length: count }, (_, i) => `$n${i}: Int!`).join(", ");
  const fields = Array.from(
    { length: count },
    (_, i) => `p${i}: pullRequest(number: $n${i}) { number state headRefName isCrossRepository }`,
  ).join("\n      ");
  return `query NightshiftIdentifyPullRequests($owner: String!, $name: String!, ${vars}) {
    repository(owner: $owner, name: $name) {
      ${fields}
    }
  }`;
}

export type IdentifyPullRequestsReply = {
  repository: Record<string, PullRequestIdent | null> | null;
};

const CONTEXT_FIELDS = /* GraphQL */ `
  fragment NightshiftCheckRun on CheckRun {
    name
    status
    conclusion
    detailsUrl
    title
    summary
    text
  }
  fragment NightshiftStatusContext on StatusContext {
    context
    state
    targetUrl
    description
  }
`;

/**
 * Check contexts selection with `isRequired` for PR number variable `$var`: `isRequired`
 * needs the pull request (`pullRequestNumber`), so it cannot live in a shared fragment.
 */
function contextsSelection(numberVar: string, after: string | null): string {
  return `contexts(first: ${CONTEXTS_PAGE_SIZE}${after ? `, after: ${after}` : ""}) {
          pageInfo { hasNextPage endCursor }
          nodes {
            __typename
            ... on CheckRun { ...NightshiftCheckRun isRequired(pullRequestNumber: ${numberVar}) }
            ... on StatusContext { ...NightshiftStatusContext isRequired(pullRequestNumber: ${numberVar}) }
          }
        }`;
}

export type ContextNode =
  | {
      __typename: "CheckRun";
      name: string;
      status: CheckStatusState;
      conclusion: CheckConclusionState | null;
      detailsUrl: string | null;
      title: string | null;
      summary: string | null;
      text: string | null;
      isRequired: boolean;
    }
  | {
      __typename: "StatusContext";
      context: string;
      state: StatusState;
      targetUrl: string | null;
      description: string | null;
      isRequired: boolean;
    };

export interface ContextsConnection {
  pageInfo: PageInfo;
  nodes: (ContextNode | null)[] | null;
}

/** One PR's status as {@link statusQuery} returns it under its alias. */
export interface PullRequestStatusNode {
  /** The node id the draft mutations take. */
  id: string;
  number: number;
  title: string;
  state: PullRequestState;
  isDraft: boolean;
  mergeable: MergeableState;
  mergeStateStatus: MergeStateStatus;
  headRefName: string;
  headRefOid: string;
  baseRefName: string;
  isCrossRepository: boolean;
  additions: number;
  deletions: number;
  changedFiles: number;
  createdAt: string;
  updatedAt: string;
  author: { login: string } | null;
  labels: { nodes: ({ name: string } | null)[] | null } | null;
  commits: {
    nodes:
      | ({ commit: { oid: string; statusCheckRollup: { contexts: ContextsConnection } | null } } | null)[]
      | null;
  };
  /** Present when the request asked for a compare (same-repository heads). */
  baseRef?: { compare: { behindBy: number; aheadBy: number } | null } | null;
}

/**
 * The status of several PRs in one request: alias `p<i>` is PR `$n<i>`, and when
 * `compare[i]` is true it also compares the PR's base ref with head branch `$h<i>` (GraphQL
 * `Ref.compare`), which gives `behindBy` whether or not GitHub says `BEHIND`.
 */
export function statusQuery(compare: boolean[]): string {
  const vars = compare.map((c, i) => `$n${i}: Int!${c ? `, $h${i}: String!` : ""}`).join(", ");
  const fields = compare
    .map(
      (c, i) => `p${i}: pullRequest(number: $n${i}) {
      ...NightshiftPullRequestStatus
      ${c ? `baseRef { compare(headRef: $h${i}) { behindBy aheadBy } }` : ""}
      commits(last: 1) {
        nodes {
          commit {
            oid
            statusCheckRollup {
              ${contextsSelection(`$n${i}`, null)}
            }
          }
        }
      }
    }`,
    )
    .join("\n    ");
  return `query NightshiftPullRequestStatuses($owner: String!, $name: String!, ${vars}) {
  repository(owner: $owner, name: $name) {
    ${fields}
  }
}
fragment NightshiftPullRequestStatus on PullRequest {
  id
  number
  title
  state
  isDraft
  mergeable
  mergeStateStatus
  headRefName
  headRefOid
  baseRefName
  isCrossRepository
  additions
  deletions
  changedFiles
  createdAt
  updatedAt
  author { login }
  labels(first: 100) { nodes { name } }
}
${CONTEXT_FIELDS}`;
}

export type StatusReply = { repository: Record<string, PullRequestStatusNode | null> | null };

/** The next page of check contexts of one commit (addressed by oid, so a later push cannot mix in). */
export const CONTEXTS_PAGE_QUERY = /* GraphQL */ `
  query NightshiftCheckContexts($owner: String!, $name: String!, $oid: GitObjectID!, $number: Int!, $after: String!) {
    repository(owner: $owner, name: $name) {
      object(oid: $oid) {
        __typename
        ... on Commit {
          statusCheckRollup {
            ${contextsSelection("$number", "$after")}
          }
        }
      }
    }
  }
  ${CONTEXT_FIELDS}
`;

export interface ContextsPageReply {
  repository: {
    object: { __typename: string; statusCheckRollup?: { contexts: ContextsConnection } | null } | null;
  } | null;
}

const REVIEW_COMMENT_FIELDS = /* GraphQL */ `
  fragment NightshiftReviewComment on PullRequestReviewComment {
    id
    body
    createdAt
    author {
      login
    }
  }
`;

export const REVIEW_THREADS_QUERY = /* GraphQL */ `
  query NightshiftReviewThreads($owner: String!, $name: String!, $number: Int!, $after: String) {
    repository(owner: $owner, name: $name) {
      pullRequest(number: $number) {
        reviewThreads(first: ${THREADS_PAGE_SIZE}, after: $after) {
          pageInfo {
            hasNextPage
            endCursor
          }
          nodes {
            id
            isResolved
            path
            line
            comments(first: 100) {
              pageInfo {
                hasNextPage
                endCursor
              }
              nodes {
                ...NightshiftReviewComment
              }
            }
          }
        }
      }
    }
  }
  ${REVIEW_COMMENT_FIELDS}
`;

export interface ReviewCommentNode {
  id: string;
  body: string;
  createdAt: string;
  author: { login: string } | null;
}

export interface ReviewCommentsConnection {
  pageInfo: PageInfo;
  nodes: (ReviewCommentNode | null)[] | null;
}

export interface ReviewThreadNode {
  id: string;
  isResolved: boolean;
  path: string;
  line: number | null;
  comments: ReviewCommentsConnection;
}

export interface ReviewThreadsReply {
  repository: {
    pullRequest: {
      reviewThreads: { pageInfo: PageInfo; nodes: (ReviewThreadNode | null)[] | null };
    } | null;
  } | null;
}

/** Further comments of one review thread, by node id. */
export const THREAD_COMMENTS_QUERY = /* GraphQL */ `
  query NightshiftReviewThreadComments($id: ID!, $after: String!) {
    node(id: $id) {
      __typename
      ... on PullRequestReviewThread {
        comments(first: 100, after: $after) {
          pageInfo {
            hasNextPage
            endCursor
          }
          nodes {
            ...NightshiftReviewComment
          }
        }
      }
    }
  }
  ${REVIEW_COMMENT_FIELDS}
`;

export interface ThreadCommentsReply {
  node: { __typename: string; comments?: ReviewCommentsConnection } | null;
}

export const PULL_REQUEST_ID_QUERY = /* GraphQL */ `
  query NightshiftPullRequestId($owner: String!, $name: String!, $number: Int!) {
    repository(owner: $owner, name: $name) {
      pullRequest(number: $number) {
        id
        isDraft
      }
    }
  }
`;

export interface PullRequestIdReply {
  repository: { pullRequest: { id: string; isDraft: boolean } | null } | null;
}

export const CONVERT_TO_DRAFT_MUTATION = /* GraphQL */ `
  mutation NightshiftConvertPullRequestToDraft($id: ID!) {
    convertPullRequestToDraft(input: { pullRequestId: $id }) {
      pullRequest {
        isDraft
      }
    }
  }
`;

export const MARK_READY_MUTATION = /* GraphQL */ `
  mutation NightshiftMarkPullRequestReadyForReview($id: ID!) {
    markPullRequestReadyForReview(input: { pullRequestId: $id }) {
      pullRequest {
        isDraft
      }
    }
  }
`;

/**
 * Mutation fields per batched document (`mutationDocument`, mutation-batch.ts). GitHub runs a
 * document's mutations one after another and ends any request that takes more than 10
 * seconds (GitHub docs, "Rate limits and query limits for the GraphQL API"); a document cut
 * off that way leaves unknown which of its changes were made. GitHub does not say how long a
 * comment or a branch update takes, so documents stay small: 25 fields still turn the guard's
 * 250 changes over 500 PRs into 10 requests, where 50 would save 5 more at twice the risk.
 */
export const MUTATION_BATCH_SIZE = 25;

/** Payload selection of a batched `convertPullRequestToDraft` / `markPullRequestReadyForReview`. */
export const DRAFT_PAYLOAD = "{ pullRequest { isDraft } }";

export interface DraftPayload {
  pullRequest: { isDraft: boolean } | null;
}

/**
 * Payload selection of a batched `addComment`: the new issue comment. `fullDatabaseId` is the
 * REST comment id (a `BigInt`, sent as a string; `databaseId` is an `Int` and overflows);
 * `__typename` tells a `Bot` author, whose login GraphQL gives without REST's `[bot]`.
 */
export const ADD_COMMENT_PAYLOAD =
  "{ commentEdge { node { fullDatabaseId body createdAt author { __typename login } } } }";

export interface AddCommentPayload {
  commentEdge: {
    node: {
      fullDatabaseId: string | number | null;
      body: string;
      createdAt: string;
      author: { __typename: string; login: string } | null;
    } | null;
  } | null;
}

/**
 * Payload selection of a batched `updatePullRequestBranch` (input `pullRequestId`,
 * `expectedHeadOid`, `updateMethod: MERGE`): the head after the call. GitHub may still be
 * merging when it answers, so the head can be the old one.
 */
export const UPDATE_BRANCH_PAYLOAD = "{ pullRequest { headRefOid } }";

export interface UpdateBranchPayload {
  pullRequest: { headRefOid: string } | null;
}
