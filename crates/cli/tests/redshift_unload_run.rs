//! `sluice run` of AWS's RedshiftToRDS sample (awslabs/data-pipeline-samples,
//! `RedshiftToRDS_WithoutRDSCreate.json`): RedshiftCopyActivity unloads a Redshift table to
//! S3, then CopyActivity loads those files into MySQL through an insert query. The local
//! PostgreSQL stands for Redshift and the local MariaDB for RDS, reached by connection string
//! (`sluice run` has no settings file to map `clusterId` and `rdsInstanceId`); the staging
//! directory is in the embedded object store. The sample's last step, an `aws s3 rm` run with
//! `sudo yum`, is left out.

mod common;

use std::fs;
use std::path::Path;

use serde_json::json;

use common::Sandbox;
use sluice_testsupport::databases::{MariaDbTables, PgTables, mariadb, psql, unique_name};

/// Every file under `dir`, relative, sorted.
fn files_under(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(next) = pending.pop() {
        for entry in fs::read_dir(&next).into_iter().flatten() {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                pending.push(path);
            } else {
                found.push(path.strip_prefix(dir).expect("under").display().to_string());
            }
        }
    }
    found.sort();
    found
}

#[test]
fn redshift_to_rds_sample_unloads_to_s3_then_loads_mysql() {
    let sb = Sandbox::new();
    let source = unique_name("rs_source");
    let target = unique_name("rds_target");
    let _pg = PgTables(vec![source.clone()]);
    let _my = MariaDbTables(vec![target.clone()]);
    psql(&format!(
        "CREATE TABLE {source} (id int PRIMARY KEY, name text, note text, amount numeric(8,2));
         INSERT INTO {source} VALUES
           (1, 'plain', 'x', 1.50),
           (2, 'with, comma', NULL, NULL),
           (3, 'quote \"q\" and ''apos''', E'line1\\nline2', -2),
           (4, 'ünïcödé ✓ 日本', '', 3.25);"
    ));
    mariadb(&format!(
        "CREATE TABLE {target} (id int PRIMARY KEY, name varchar(100), note varchar(100), \
         amount decimal(8,2)) DEFAULT CHARSET=utf8mb4"
    ));

    let schedule = json!({ "ref": "DefaultSchedule" });
    let def = sb.write_definition_with(
        "redshift-to-rds.json",
        json!([
            { "id": "RdsDatabase", "name": "RdsDatabase", "type": "JdbcDatabase",
              "connectionString": "jdbc:mariadb://127.0.0.1:3306/#{myRDSDatabaseName}",
              "jdbcDriverClass": "org.mariadb.jdbc.Driver",
              "username": "#{myRDSUsername}", "*password": "#{*myRDSPassword}" },
            { "id": "RedshiftCluster", "name": "RedshiftCluster", "type": "RedshiftDatabase",
              "connectionString": "jdbc:postgresql://127.0.0.1:5432/#{myRedshiftDatabaseName}",
              "username": "#{myRedshiftUsername}", "*password": "#{*myRedshiftPassword}" },
            { "id": "DefaultSchedule", "name": "RunOnce", "type": "Schedule",
              "occurrences": "1", "period": "1 Day", "startAt": "FIRST_ACTIVATION_DATE_TIME" },
            { "id": "RedshiftToS3", "name": "RedshiftToS3", "type": "RedshiftCopyActivity",
              "input": { "ref": "RedshiftDataNode" }, "output": { "ref": "S3OutputLocation" },
              "schedule": schedule, "runsOn": { "ref": "Ec2Instance" },
              "myComment": "This object is a RedshiftCopyActivity. It is used to define the work that will be done to copy the data from Redshift to S3.",
              "insertMode": "TRUNCATE" },
            { "id": "S3ToRdsCopyActivity", "name": "S3toRdsCopyActivity", "type": "CopyActivity",
              "input": { "ref": "S3OutputLocation" }, "output": { "ref": "RDSDataNode" },
              "dependsOn": { "ref": "RedshiftToS3" }, "runsOn": { "ref": "Ec2Instance" },
              "myComment": "This object is a CopyActivity. It is used to define the work that will be done to copy the data from the S3 to RDS." },
            { "id": "Ec2Instance", "name": "Ec2Instance", "type": "Ec2Resource",
              "resourceRole": "DataPipelineDefaultResourceRole", "role": "DataPipelineDefaultRole",
              "instanceType": "m1.small", "securityGroups": "#{myEc2SecurityGrps}",
              "terminateAfter": "2 Hours",
              "myComment": "This object is used to create an Amazon EC2 Instance that activities in the pipeline can run on." },
            { "id": "S3OutputLocation", "name": "S3OutputLocation", "type": "S3DataNode",
              "directoryPath": "#{myOutputS3Path}/#{format(@scheduledStartTime, 'YYYY-MM-dd-HH-mm-ss')}/",
              "myComment": "This object is a S3 datanode. It is used to represent the S3 directory where the data will be stored." },
            { "id": "Default", "name": "Default", "failureAndRerunMode": "CASCADE",
              "schedule": schedule, "resourceRole": "DataPipelineDefaultResourceRole",
              "role": "DataPipelineDefaultRole", "pipelineLogUri": "#{myS3LogsPath}",
              "scheduleType": "cron" },
            { "id": "RDSDataNode", "name": "RDSDataNode", "type": "MySqlDataNode",
              "schedule": schedule, "database": { "ref": "RdsDatabase" },
              "insertQuery": "#{myInsertQueryPreparedStatement}", "table": "#{myRDSTableName}" },
            { "id": "RedshiftDataNode", "name": "RedshiftDataNode", "type": "RedshiftDataNode",
              "schedule": schedule, "database": { "ref": "RedshiftCluster" },
              "tableName": "#{myRedshiftTableName}" }
        ]),
        json!({
            "parameters": [
                { "id": "myRDSDatabaseName", "type": "String", "description": "RDS Database name" },
                { "id": "myRDSUsername", "type": "String", "description": "RDS Database Username" },
                { "id": "*myRDSPassword", "type": "String", "description": "RDS MySQL password" },
                { "id": "myRDSTableName", "type": "String", "description": "RDS MySQL table name" },
                { "id": "myRedshiftDatabaseName", "type": "String", "description": "Redshift Database name" },
                { "id": "myRedshiftUsername", "type": "String", "description": "Redshift Database Username" },
                { "id": "*myRedshiftPassword", "type": "String", "description": "Redshift MySQL password" },
                { "id": "myRedshiftTableName", "type": "String", "description": "Redshift MySQL table name" },
                { "id": "myOutputS3Path", "type": "AWS::S3::ObjectKey", "watermark": "s3://mybucket",
                  "description": "Temporary S3 folder" },
                { "id": "myInsertQueryPreparedStatement", "type": "String",
                  "watermark": "insert into table_name(col1,col2) values(?,?);",
                  "description": "RDS Insert Query Prepared Statement" },
                { "id": "myEc2SecurityGrps", "type": "String", "watermark": "sg-12345",
                  "description": "Ec2 security group(s)", "isArray": "true", "optional": "true" },
                { "id": "myS3LogsPath", "type": "AWS::S3::ObjectKey", "watermark": "s3://mybucket",
                  "description": "S3 folder for logs" }
            ],
            "values": {
                "myRDSDatabaseName": "test",
                "myRDSUsername": "root",
                "*myRDSPassword": "",
                "myRDSTableName": target,
                "myRedshiftDatabaseName": "test",
                "myRedshiftUsername": "postgres",
                "*myRedshiftPassword": "unused-with-trust-auth",
                "myRedshiftTableName": source,
                "myOutputS3Path": "s3://staging/redshift-to-rds",
                "myInsertQueryPreparedStatement": format!("insert into {target}(id,name,note,amount) values(?,?,?,?);"),
                "myEc2SecurityGrps": "sg-12345",
                "myS3LogsPath": "s3://logs/redshift-to-rds"
            }
        }),
    );
    let out = sb.run(&def, &["--output", "json"]);
    out.assert_code(0);
    let report = out.report();
    assert_eq!(
        report.one("RedshiftToS3").status,
        "FINISHED",
        "{}",
        out.stdout
    );
    assert_eq!(
        report.one("S3ToRdsCopyActivity").status,
        "FINISHED",
        "{}",
        out.stdout
    );

    // One unload file, in the directory named after the scheduled start.
    let staged = files_under(&sb.data_dir().join("s3/staging/redshift-to-rds"));
    assert_eq!(staged.len(), 1, "{staged:?}");
    assert!(staged[0].ends_with("/0000_part_00"), "{staged:?}");

    // CSV keeps NULL (an empty field) and the empty string (`""`) apart, all the way to MySQL.
    assert_eq!(
        mariadb(&format!(
            "SELECT id, name, note, amount FROM {target} ORDER BY id"
        )),
        "1\tplain\tx\t1.50\n\
         2\twith, comma\tNULL\tNULL\n\
         3\tquote \"q\" and 'apos'\tline1\\nline2\t-2.00\n\
         4\tünïcödé ✓ 日本\t\t3.25\n"
    );
}
