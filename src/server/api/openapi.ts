// The API's OpenAPI description, served at /api/openapi.json. Application schemas come from the
// same definitions as the CRD, so the two cannot drift.
import { applicationSpec, applicationStatus } from '../../api/types.ts';

const json = (schema: object) => ({ content: { 'application/json': { schema } } });
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const appPath = (verb: string, summary: string, body?: object) => ({
  [verb]: {
    summary,
    parameters: [
      { name: 'namespace', in: 'path', required: true, schema: { type: 'string' } },
      { name: 'name', in: 'path', required: true, schema: { type: 'string' } },
    ],
    ...(body ? { requestBody: json(body) } : {}),
    responses: {
      '200': { description: 'OK', ...json(ref('Application')) },
      '401': { description: 'Not logged in' },
      '403': { description: 'Kubernetes RBAC does not allow this to the person asking' },
      '404': { description: 'No such Application' },
    },
  },
});

export function openApiDocument(version: string): object {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Cairn API',
      version,
      description:
        'Applications as the CLI prints them. Authenticate with a Kubernetes bearer token or a session cookie ' +
        '(POST /api/login); writes with a session carry the X-CSRF-Token header. Every action is allowed ' +
        'exactly when Kubernetes RBAC allows it to the person (SubjectAccessReview, then impersonation).',
    },
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer' },
        session: { type: 'apiKey', in: 'cookie', name: 'cairn_session' },
      },
      schemas: {
        Application: {
          type: 'object',
          properties: {
            apiVersion: { type: 'string' },
            kind: { type: 'string' },
            metadata: { type: 'object' },
            spec: applicationSpec.openapi,
            status: applicationStatus.openapi,
          },
        },
        ApplicationList: {
          type: 'object',
          properties: {
            apiVersion: { type: 'string' },
            kind: { const: 'List' },
            items: { type: 'array', items: ref('Application') },
            metadata: {
              type: 'object',
              properties: {
                total: { type: 'integer' },
                page: { type: 'integer' },
                pageSize: { type: 'integer' },
              },
            },
            counts: { type: 'object' },
            namespaces: { type: 'array', items: { type: 'string' } },
          },
        },
        Person: {
          type: 'object',
          properties: {
            user: { type: 'string' },
            groups: { type: 'array', items: { type: 'string' } },
            csrf: { type: 'string' },
          },
        },
      },
    },
    security: [{ bearer: [] }, { session: [] }],
    paths: {
      '/api/login': {
        post: {
          summary: 'Log in with the local admin password or a Kubernetes token; sets the session cookie',
          security: [],
          requestBody: json({
            type: 'object',
            properties: {
              username: { type: 'string' },
              password: { type: 'string' },
              token: { type: 'string' },
            },
          }),
          responses: {
            '200': { description: 'Logged in', ...json(ref('Person')) },
            '401': { description: 'Wrong credentials' },
            '429': { description: 'Too many attempts' },
          },
        },
      },
      '/api/logout': { post: { summary: 'End the session', responses: { '204': { description: 'Done' } } } },
      '/api/session': {
        get: {
          summary: 'Who is logged in',
          responses: { '200': { description: 'OK', ...json(ref('Person')) } },
        },
      },
      '/api/applications': {
        get: {
          summary: 'The Applications the person may list, filtered and paged',
          parameters: ['namespace', 'sync', 'health', 'label', 'search', 'page', 'pageSize'].map((name) => ({
            name,
            in: 'query',
            schema: { type: name.startsWith('page') ? 'integer' : 'string' },
          })),
          responses: { '200': { description: 'OK', ...json(ref('ApplicationList')) } },
        },
      },
      '/api/applications/{namespace}/{name}': appPath('get', 'One Application'),
      '/api/applications/{namespace}/{name}/tree': appPath(
        'get',
        'The resource tree (as `cairn app tree -o json`)',
      ),
      '/api/applications/{namespace}/{name}/history': appPath(
        'get',
        'The sync history (as `cairn app history -o json`)',
      ),
      '/api/applications/{namespace}/{name}/diff': appPath(
        'get',
        'Live against desired at the pinned commit or the branch head (as `cairn app diff -o json`; Secrets redacted)',
      ),
      '/api/applications/{namespace}/{name}/sync': appPath('post', 'Ask the controller to apply now'),
      '/api/applications/{namespace}/{name}/refresh': appPath(
        'post',
        'Ask for a fetch of the GitRepository now',
      ),
      '/api/applications/{namespace}/{name}/suspend': appPath('post', 'Stop reconciling'),
      '/api/applications/{namespace}/{name}/resume': appPath('post', 'Reconcile again and follow the branch'),
      '/api/applications/{namespace}/{name}/rollback': appPath(
        'post',
        'Pin the revision of a history entry',
        {
          type: 'object',
          required: ['id'],
          properties: { id: { type: 'integer' } },
        },
      ),
      '/api/events': {
        get: {
          summary:
            'Server-sent events: `application` events ({type, object}) for the Applications the person may list',
          responses: { '200': { description: 'An event stream', content: { 'text/event-stream': {} } } },
        },
      },
      '/api/badge/{namespace}/{name}': {
        get: {
          summary: 'A status badge (SVG), when the server runs with --badges',
          security: [],
          responses: { '200': { description: 'SVG', content: { 'image/svg+xml': {} } } },
        },
      },
    },
  };
}
