// Where `npm start` keeps and serves its local issuer, so `npm run token` mints tokens the
// running gateway accepts: LOCAL_IDP_PORT (default 3099) on 127.0.0.1, key in <data>/local-idp.
const { join } = require('node:path');

function localIdpSettings(dataRoot, env = process.env) {
  const port = Number(env.LOCAL_IDP_PORT || 3099);
  return {
    dir: join(dataRoot, 'local-idp'),
    port,
    issuer: `http://127.0.0.1:${port}`,
  };
}

module.exports = { localIdpSettings };
